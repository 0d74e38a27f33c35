"""The incident desk's audit log (who changed what, when) and the status-update subscribers (e-mail, webhook).

Revision ID: s0002
Revises: s0001
"""

import sqlalchemy as sa
from alembic import op

revision = "s0002"
down_revision = "s0001"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "status_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TIME, nullable=False),
        sa.Column("actor_id", sa.String(200), nullable=False),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_status_audit_at", "status_audit", ["at"])
    op.create_table(
        "status_subscribers",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.String(2048), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("confirmed_at", TIME, nullable=True),
    )
    op.create_index("ix_status_subscribers_kind_target", "status_subscribers", ["kind", "target"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_status_subscribers_kind_target", "status_subscribers")
    op.drop_table("status_subscribers")
    op.drop_index("ix_status_audit_at", "status_audit")
    op.drop_table("status_audit")
