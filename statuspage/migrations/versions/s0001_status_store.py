"""The status page's store as `create_all` made it before it had migrations: components and their status changes,
incidents and maintenances with their updates. A store made that way is stamped at this revision, not rebuilt.

Revision ID: s0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "s0001"
down_revision = None
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "status_components",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_table(
        "status_component_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("component_id", sa.String(64), sa.ForeignKey("status_components.id"), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("at", TIME, nullable=False),
    )
    op.create_index("ix_status_component_events_component_id", "status_component_events", ["component_id"])
    op.create_index("ix_status_component_events_at", "status_component_events", ["at"])
    op.create_table(
        "status_incidents",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("impact", sa.String(16), nullable=False),
        sa.Column("components", sa.JSON, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("monitoring_at", TIME),
        sa.Column("resolved_at", TIME),
        sa.Column("scheduled_for", TIME),
        sa.Column("scheduled_until", TIME),
    )
    op.create_index("ix_status_incidents_kind", "status_incidents", ["kind"])
    op.create_index("ix_status_incidents_created_at", "status_incidents", ["created_at"])
    op.create_table(
        "status_incident_updates",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("incident_id", sa.String(16), sa.ForeignKey("status_incidents.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_status_incident_updates_incident_id", "status_incident_updates", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_status_incident_updates_incident_id", table_name="status_incident_updates")
    op.drop_table("status_incident_updates")
    op.drop_index("ix_status_incidents_created_at", table_name="status_incidents")
    op.drop_index("ix_status_incidents_kind", table_name="status_incidents")
    op.drop_table("status_incidents")
    op.drop_index("ix_status_component_events_at", table_name="status_component_events")
    op.drop_index("ix_status_component_events_component_id", table_name="status_component_events")
    op.drop_table("status_component_events")
    op.drop_table("status_components")
