"""Alembic's environment: run on the connection that dashboard.migrate hands over (config.attributes).

There is no alembic.ini: dashboard.migrate builds the Config in code, takes the backend's lock
(a PostgreSQL advisory lock, SQLite's write lock) and opens the transaction; this only runs the scripts.
"""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=True, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
