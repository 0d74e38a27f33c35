"""One gateway node wired from its settings: the store (persistence), the bus (realtime), the services (support),
and the dispatcher that holds them. The one place that picks the implementations of the ports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast
from urllib.parse import unquote, urlsplit

from helpline.tracing import TracedBus, tracer
from persistence.attachments_local import LocalFolderStorage
from persistence.desk_store import DeskRepository
from persistence.store import TicketStore
from persistence.workflow_store import WorkflowRepository
from realtime.bus import open_bus
from realtime.dispatch import Gateway
from support.core.bus import Bus
from support.core.settings import Settings
from support.help.attachment_storage import AttachmentStorage
from support.tickets.service import TicketService
from support.workflow.desk import Desk
from support.workflow.service import Workflow


@dataclass(frozen=True)
class Node:
    gateway: Gateway
    store: TicketStore  # the SQL store itself, for the parts not yet behind a port (help index, webhooks)
    desk: Desk  # tags, search, views, macros, bulk actions, report charts (issue 20)


def assemble_node(settings: Settings) -> Node:
    store = TicketStore(settings.database_url)
    bus = open_bus(settings, store)
    if settings.tracing:
        bus = cast(Bus, TracedBus(bus, tracer()))
    tickets = TicketService(settings, store, bus)
    workflow_db = WorkflowRepository(store)
    workflow = Workflow(settings, store, bus, tickets, workflow_db)
    desk = Desk(DeskRepository(store), tickets, bus, workflow_db)
    return Node(Gateway(settings, store, bus, tickets, workflow), store, desk)


def open_attachment_storage(settings: Settings) -> AttachmentStorage:
    """The attachment backend named by HELPLINE_ATTACHMENTS_URL: `s3://bucket/prefix`, `file:///folder`, or unset
    for the folder HELPLINE_ATTACHMENTS_DIR. Any other scheme stops the process: no silent fallback to one disk."""
    url = settings.attachments_url
    if not url:
        return LocalFolderStorage(settings.attachments_dir)
    scheme = urlsplit(url).scheme
    if scheme == "s3":
        # Imported only when used: botocore is large.
        from persistence.attachments_s3 import S3Storage

        return S3Storage.from_url(url, settings.s3_endpoint_url)
    if scheme == "file":
        return LocalFolderStorage(unquote(urlsplit(url).path))
    raise ValueError(f"HELPLINE_ATTACHMENTS_URL={url!r}: the scheme must be s3:// or file://")
