"""issue-20 agent capacity: agent_states.capacity, the most active tickets auto-assignment gives an agent (NULL: no
limit). Upgrade keeps every row (NULL for all: nobody is limited until they say so); downgrade drops the column.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agent_states") as batch:
        batch.add_column(sa.Column("capacity", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agent_states") as batch:
        batch.drop_column("capacity")
