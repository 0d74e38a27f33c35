"""One gateway node wired from its settings: the store (persistence), the bus (realtime), the services (support),
and the dispatcher that holds them. The one place that picks the implementations of the ports."""

from __future__ import annotations

from dataclasses import dataclass

from persistence.store import TicketStore
from persistence.workflow_store import WorkflowRepository
from realtime.bus import open_bus
from realtime.dispatch import Gateway
from support.core.settings import Settings
from support.tickets.service import TicketService
from support.workflow.service import Workflow


@dataclass(frozen=True)
class Node:
    gateway: Gateway
    store: TicketStore  # the SQL store itself, for the parts not yet behind a port (help index, webhooks)


def assemble_node(settings: Settings) -> Node:
    store = TicketStore(settings.database_url)
    bus = open_bus(settings, store)
    tickets = TicketService(settings, store, bus)
    workflow = Workflow(settings, store, bus, tickets, WorkflowRepository(store))
    return Node(Gateway(settings, store, bus, tickets, workflow), store)
