"""issue-7 self-help articles, attachments, callbacks, deflections.

Full-text search differs by engine: an FTS5 table on SQLite, a weighted tsvector column with a GIN index on PostgreSQL.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PG_SEARCH = ("setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
             "setweight(to_tsvector('english', coalesce(tags, '')), 'B') || "
             "setweight(to_tsvector('english', coalesce(body, '')), 'C')")


def upgrade() -> None:
    op.create_table(
        "help_articles",
        sa.Column("slug", sa.String(120), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("tags", sa.String(1000), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE help_articles ADD COLUMN search tsvector GENERATED ALWAYS AS ({PG_SEARCH}) STORED")
        op.execute("CREATE INDEX ix_help_articles_search ON help_articles USING gin (search)")
    else:
        op.execute("CREATE VIRTUAL TABLE help_articles_fts USING fts5("
                   "slug UNINDEXED, title, tags, body, tokenize = 'porter unicode61')")
    op.create_table(
        "article_events",
        sa.Column("pk", BIGINT_PK, primary_key=True, autoincrement=True),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(128)),
        sa.Column("client_id", sa.String(128)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("slug", "kind", "client_id", name="uq_article_events_client"),
    )
    op.create_index("ix_article_events_slug_kind", "article_events", ["slug", "kind"])
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("uploader_id", sa.String(128), nullable=False),
        sa.Column("client_id", sa.String(128)),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("ticket_id", "client_id", name="uq_attachments_ticket_client"),
    )
    op.create_index("ix_attachments_ticket_id", "attachments", ["ticket_id"])
    op.create_table(
        "callbacks",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("customer_name", sa.String(200), nullable=False),
        sa.Column("client_id", sa.String(128)),
        sa.Column("phone", sa.String(40), nullable=False),
        sa.Column("preferred_time", sa.String(200)),
        sa.Column("note", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True)),
        sa.Column("done_by", sa.String(128)),
        sa.UniqueConstraint("customer_id", "client_id", name="uq_callbacks_customer_client"),
    )
    op.create_index("ix_callbacks_customer_id", "callbacks", ["customer_id"])
    op.create_index("ix_callbacks_status_created", "callbacks", ["status", "created_at"])


def downgrade() -> None:
    op.drop_table("callbacks")
    op.drop_table("attachments")
    op.drop_table("article_events")
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE IF EXISTS help_articles_fts")
    op.drop_table("help_articles")
