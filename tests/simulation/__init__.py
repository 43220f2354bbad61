"""A seeded, deterministic simulation of the whole ledger (tests/simulation/world.py)."""
