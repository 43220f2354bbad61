"""Persistence: SQLAlchemy Core tables, migrations, the ledger repository and bulk paths.

The same code runs on the embedded SQLite file and on PostgreSQL. Repositories never
commit: the edge (CLI command, API request) opens one unit of work and commits once.
"""
