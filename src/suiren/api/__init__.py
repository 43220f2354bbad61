"""The HTTP service: the API (and, later, the portal and the console) over the services."""
