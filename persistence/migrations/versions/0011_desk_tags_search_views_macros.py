"""issue-20 the agent's desk: tags on tickets, full-text search over tickets and threads, saved views, macros.

Search differs by engine: on SQLite two FTS5 tables (ticket subjects, message bodies) kept in step by triggers, so
every writer (the embedded group writer, an erasure) feeds them; on PostgreSQL GIN indexes over
`to_tsvector('simple', …)` expressions, which COPY keeps up to date by itself. The 'simple' configuration (and
FTS5's unicode61 without diacritics) does not stem: tickets come in any language.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SQLITE_FTS = (
    "CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='messages', content_rowid='pk',"
    " tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN"
    " INSERT INTO messages_fts(rowid, body) VALUES (new.pk, new.body); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.pk, old.body); END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.pk, old.body);"
    " INSERT INTO messages_fts(rowid, body) VALUES (new.pk, new.body); END",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
    "CREATE VIRTUAL TABLE tickets_fts USING fts5(ticket_id UNINDEXED, subject,"
    " tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN"
    " INSERT INTO tickets_fts(ticket_id, subject) VALUES (new.id, new.subject); END",
    "CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN"
    " DELETE FROM tickets_fts WHERE ticket_id = old.id; END",
    "CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject ON tickets BEGIN"
    " UPDATE tickets_fts SET subject = new.subject WHERE ticket_id = old.id; END",
    "INSERT INTO tickets_fts(ticket_id, subject) SELECT id, subject FROM tickets",
)
SQLITE_FTS_DROP = (
    "DROP TRIGGER IF EXISTS tickets_fts_update",
    "DROP TRIGGER IF EXISTS tickets_fts_delete",
    "DROP TRIGGER IF EXISTS tickets_fts_insert",
    "DROP TABLE IF EXISTS tickets_fts",
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TABLE IF EXISTS messages_fts",
)
PG_SEARCH = (
    "CREATE INDEX ix_messages_body_search ON messages USING gin (to_tsvector('simple'::regconfig, body))",
    "CREATE INDEX ix_tickets_subject_search ON tickets USING gin (to_tsvector('simple'::regconfig, subject))",
)


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("tags", sa.JSON))
    op.create_table(
        "ticket_tags",
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("tag", sa.String(40), primary_key=True),
        sa.Column("added_by", sa.String(128), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ticket_tags_tag", "ticket_tags", ["tag", "ticket_id"])
    op.create_table(
        "saved_views",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("filters", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "macros",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False, unique=True),
        sa.Column("body", sa.Text),
        sa.Column("status", sa.String(16)),
        sa.Column("add_tags", sa.JSON, nullable=False),
        sa.Column("remove_tags", sa.JSON, nullable=False),
        sa.Column("assignee", sa.String(128)),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    for statement in PG_SEARCH if op.get_bind().dialect.name == "postgresql" else SQLITE_FTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_tickets_subject_search")
        op.execute("DROP INDEX IF EXISTS ix_messages_body_search")
    else:
        for statement in SQLITE_FTS_DROP:
            op.execute(statement)
    op.drop_table("macros")
    op.drop_table("saved_views")
    op.drop_index("ix_ticket_tags_tag", table_name="ticket_tags")
    op.drop_table("ticket_tags")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("tags")
