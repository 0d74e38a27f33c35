"""The delivery queue in the store (`status_deliveries`): a subscription e-mail or webhook pending when the status
page stops is sent after it starts again.

Revision ID: s0004
Revises: s0003
"""

import sqlalchemy as sa
from alembic import op

revision = "s0004"
down_revision = "s0003"
branch_labels = None
depends_on = None
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "status_deliveries",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("subscriber_id", sa.String(16), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("due_at", TIME, nullable=False),
        sa.Column("claimed_until", TIME, nullable=True),
    )
    op.create_index("ix_status_deliveries_subscriber_id", "status_deliveries", ["subscriber_id"])
    op.create_index("ix_status_deliveries_due_at", "status_deliveries", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_status_deliveries_due_at", "status_deliveries")
    op.drop_index("ix_status_deliveries_subscriber_id", "status_deliveries")
    op.drop_table("status_deliveries")
