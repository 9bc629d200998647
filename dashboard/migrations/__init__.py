"""Alembic migrations of the store, applied by dashboard.migrate when a Store opens (see env.py)."""
