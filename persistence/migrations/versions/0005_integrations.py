"""issue-9 webhooks, delivery log, audit log, erasure.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbox_events",
        sa.Column("pk", BIGINT_PK, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("ticket_id", sa.String(64)),
        sa.Column("internal", sa.Boolean, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("fanned_out", sa.Boolean, nullable=False),
        sa.UniqueConstraint("event_id", name="uq_outbox_events_event_id"),
    )
    op.create_index("ix_outbox_events_ticket_id", "outbox_events", ["ticket_id"])
    op.create_index("ix_outbox_pending", "outbox_events", ["fanned_out", "pk"])
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("events", sa.JSON, nullable=False),
        sa.Column("include_internal", sa.Boolean, nullable=False),
        sa.Column("description", sa.String(300), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("failing", sa.Boolean, nullable=False),
        sa.Column("failing_since", TIME),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("pk", BIGINT_PK, primary_key=True, autoincrement=True),
        sa.Column("endpoint_id", sa.String(64), nullable=False),
        sa.Column("event_pk", sa.BigInteger, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("last_latency_ms", sa.Float),
        sa.Column("last_error", sa.String(300)),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("last_attempt_at", TIME),
        sa.Column("delivered_at", TIME),
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_webhook_deliveries_log", "webhook_deliveries", ["endpoint_id", "pk"])
    op.create_table(
        "audit_log",
        sa.Column("pk", BIGINT_PK, primary_key=True, autoincrement=True),
        sa.Column("at", TIME, nullable=False),
        sa.Column("actor_id", sa.String(128), nullable=False),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(128), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_log_action", "audit_log", ["action", "pk"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor_id", "pk"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
    op.drop_table("outbox_events")
