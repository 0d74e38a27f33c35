"""issue-20/19 the agents' search folds accents on PostgreSQL too: "quen mat khau" finds "quên mật khẩu".

Migration 0011 indexed `to_tsvector('simple', …)`, which keeps every diacritic, while SQLite's FTS5 tables
(`unicode61 remove_diacritics 2`) drop them. The GIN expression indexes are rebuilt over `helpline_simple`, the
configuration migration 0008 made (`unaccent` then `simple`: whole words, no stemming, marks folded); the query in
persistence/desk_store.py uses the same configuration, so it is folded the same way and the index serves it. Where
the server has no `unaccent` extension, 0008 made `helpline_simple` a plain copy of `simple`: search then works as
before, without the folding. SQLite changes nothing.

Revision ID: 0012
Revises: 0011
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEXES = (("ix_messages_body_search", "messages", "body"), ("ix_tickets_subject_search", "tickets", "subject"))


def _rebuild(config: str) -> None:
    for name, table, column in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute(f"CREATE INDEX {name} ON {table} USING gin (to_tsvector('{config}'::regconfig, {column}))")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _rebuild("helpline_simple")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _rebuild("simple")
