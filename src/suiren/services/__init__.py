"""Use cases: what a worker, a platform or an agency asks Suiren to do."""
