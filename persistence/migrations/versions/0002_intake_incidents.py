"""issue-6 incident-aware intake: ticket links to status page incidents.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_incidents",
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("incident_name", sa.String(300), nullable=False),
        sa.Column("linked_by", sa.String(128), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True)),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claim_until", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_ticket_incidents_incident", "ticket_incidents", ["incident_id"])
    op.create_index("ix_ticket_incidents_pending", "ticket_incidents", ["notified_at", "incident_id"])


def downgrade() -> None:
    op.drop_index("ix_ticket_incidents_pending", table_name="ticket_incidents")
    op.drop_index("ix_ticket_incidents_incident", table_name="ticket_incidents")
    op.drop_table("ticket_incidents")
