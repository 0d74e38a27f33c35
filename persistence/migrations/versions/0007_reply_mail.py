"""issue-19 word of a reply: customers' addresses (contacts), what each ticket was mailed (reply_mail), and an index
on tickets.updated_at, so the notifier's look for quiet replies reads only recently active tickets.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("user_id", sa.String(128), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("locale", sa.String(35)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "reply_mail",
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("mailed_seq", sa.BigInteger(), nullable=False),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_tickets_updated_at", "tickets", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_updated_at", "tickets")
    op.drop_table("reply_mail")
    op.drop_table("contacts")
