"""Each subscriber's language (`en`, `vi`), chosen when they subscribed: their e-mails are written in it.

Revision ID: s0003
Revises: s0002
"""

import sqlalchemy as sa
from alembic import op

revision = "s0003"
down_revision = "s0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Everyone who subscribed before this column existed got English mail: they keep it.
    with op.batch_alter_table("status_subscribers") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=False, server_default="en"))


def downgrade() -> None:
    with op.batch_alter_table("status_subscribers") as batch:
        batch.drop_column("language")
