"""issue-7 agents workflow: triage, assignment, canned replies, CSAT, response targets.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("reviewed_by", sa.String(128)))
    # Reports and the expected reply time read tickets by creation time and by first response.
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])
    op.create_index("ix_tickets_first_response_at", "tickets", ["first_response_at"])
    op.create_table(
        "agent_states",
        sa.Column("agent_id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("away", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "assignment_cursors",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("last_agent_id", sa.String(128)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "csat_ratings",
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("plan", sa.String(16), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_csat_ratings_created", "csat_ratings", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_csat_ratings_created", table_name="csat_ratings")
    op.drop_table("csat_ratings")
    op.drop_table("canned_replies")
    op.drop_table("assignment_cursors")
    op.drop_table("agent_states")
    op.drop_index("ix_tickets_first_response_at", table_name="tickets")
    op.drop_index("ix_tickets_created_at", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("reviewed_by")
        batch.drop_column("reviewed_at")
