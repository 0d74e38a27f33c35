"""issue-19 follow-ups: a closed ticket takes no new message; the customer opens a follow-up instead, which names
the ticket it follows (`tickets.follow_up_of`, indexed so the old ticket lists its follow-ups).

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("follow_up_of", sa.String(64), nullable=True))
        batch.create_index("ix_tickets_follow_up_of", ["follow_up_of"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_follow_up_of")
        batch.drop_column("follow_up_of")
