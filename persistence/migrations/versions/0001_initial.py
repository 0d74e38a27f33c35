"""Tickets, messages and read cursors.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("customer_name", sa.String(200), nullable=False),
        sa.Column("client_id", sa.String(128)),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("plan", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("assignee", sa.String(128)),
        sa.Column("page_url", sa.String(2000)),
        sa.Column("context", sa.JSON),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("first_response_due", sa.DateTime(timezone=True)),
        sa.Column("first_response_at", sa.DateTime(timezone=True)),
        sa.Column("solved_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("customer_id", "client_id", name="uq_tickets_customer_client"),
    )
    op.create_index("ix_tickets_customer_id", "tickets", ["customer_id"])
    op.create_index("ix_tickets_queue", "tickets", ["status", "first_response_due", "priority", "created_at"])
    op.create_index("ix_tickets_customer_activity", "tickets", ["customer_id", "updated_at"])
    op.create_table(
        "messages",
        sa.Column("pk", BIGINT_PK, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("author_id", sa.String(128), nullable=False),
        sa.Column("author_name", sa.String(200), nullable=False),
        sa.Column("author_role", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("internal", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("ticket_id", "seq", name="uq_messages_ticket_seq"),
        sa.UniqueConstraint("ticket_id", "client_id", name="uq_messages_ticket_client"),
    )
    op.create_table(
        "read_cursors",
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(128), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("read_cursors")
    op.drop_table("messages")
    op.drop_table("tickets")
