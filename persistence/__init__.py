"""Helpline's storage: SQLAlchemy models, Alembic migrations, queries and the persistence workers."""
