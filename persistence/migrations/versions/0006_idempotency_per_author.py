"""issue-14 idempotency per author: a message's client_id is unique per (ticket, author), an attachment's per
(ticket, uploader), no longer per ticket alone, so one author's client_id never answers for another's.

Upgrade keeps every row (the new keys are wider than the old). Downgrade puts the per-ticket keys back; rows that
only the wider key told apart keep their data, their later duplicates' client_ids rewritten (see _downgrade_*).

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint("uq_messages_ticket_client", type_="unique")
        batch.create_unique_constraint("uq_messages_ticket_author_client", ["ticket_id", "author_id", "client_id"])
    with op.batch_alter_table("attachments") as batch:
        batch.drop_constraint("uq_attachments_ticket_client", type_="unique")
        batch.create_unique_constraint("uq_attachments_ticket_uploader_client",
                                       ["ticket_id", "uploader_id", "client_id"])


def downgrade() -> None:
    _downgrade_messages_keys()
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint("uq_messages_ticket_author_client", type_="unique")
        batch.create_unique_constraint("uq_messages_ticket_client", ["ticket_id", "client_id"])
    # A repeated upload can no longer be told from another uploader's: the later ones lose their (nullable) key.
    op.execute(sa.text(
        "UPDATE attachments SET client_id = NULL WHERE client_id IS NOT NULL AND id NOT IN ("
        " SELECT MIN(id) FROM attachments WHERE client_id IS NOT NULL GROUP BY ticket_id, client_id)"))
    with op.batch_alter_table("attachments") as batch:
        batch.drop_constraint("uq_attachments_ticket_uploader_client", type_="unique")
        batch.create_unique_constraint("uq_attachments_ticket_client", ["ticket_id", "client_id"])


def _downgrade_messages_keys() -> None:
    """client_id is required: every message but the first of a (ticket, client_id) gets one made of its seq, which
    is unique in its ticket, so the old constraint holds and no message is lost."""
    op.execute(sa.text(
        "UPDATE messages SET client_id = 'before-0006:' || CAST(seq AS VARCHAR(20)) WHERE pk NOT IN ("
        " SELECT MIN(pk) FROM messages GROUP BY ticket_id, client_id)"))
