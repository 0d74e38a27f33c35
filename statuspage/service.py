"""What the page shows, assembled from the store with the rules: components as users see them, active
incidents and maintenances, overall status, uptime bars. Every HTTP surface reads this one view.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from statuspage import rules
from statuspage.config import PageSpec
from statuspage.store import Component, Incident, StatusStore
from statuspage.tables import utcnow


@dataclass(frozen=True)
class Snapshot:
    now: datetime
    components: list[Component]  # status here is the effective one (recorded, made worse by incidents)
    incidents: list[Incident]  # unresolved, newest first
    maintenances: list[Incident]  # scheduled or in progress, status by the clock, soonest first
    overall: str
    indicator: str
    description: str
    updated_at: datetime


@dataclass(frozen=True)
class ComponentUptime:
    component: Component
    days: list[rules.Day]
    percent: float | None


def live_maintenance(m: Incident, now: datetime) -> Incident:
    """A maintenance with its clock-driven status (and end) applied."""
    if m.scheduled_for is None or m.scheduled_until is None:
        return m
    status = rules.maintenance_status(m.status, now, m.scheduled_for, m.scheduled_until)
    resolved = m.resolved_at or (m.scheduled_until if status == "completed" else None)
    return replace(m, status=status, resolved_at=resolved)


def _active_events(incidents: list[Incident], maintenances: list[Incident], now: datetime) -> list[rules.Event]:
    events = [
        rules.Event(c, rules.impact_status(i.impact), i.created_at, None) for i in incidents for c in i.components
    ]
    events += [
        rules.Event(c, "under_maintenance", m.scheduled_for or m.created_at, None)
        for m in maintenances
        if m.status in ("in_progress", "verifying")
        for c in m.components
    ]
    return events


class StatusService:
    def __init__(self, store: StatusStore, page: PageSpec) -> None:
        self.store, self.page = store, page
        self.known = {c.id for c in page.components}

    async def components(self) -> list[Component]:
        """Recorded components that the components file still names, in its order."""
        return [c for c in await self.store.components() if c.id in self.known]

    async def snapshot(self, now: datetime | None = None) -> Snapshot:
        now = now or utcnow()
        recorded = await self.components()
        incidents = await self.store.unresolved("incident")
        maintenances = [live_maintenance(m, now) for m in await self.store.unresolved("maintenance")]
        maintenances = sorted(
            (m for m in maintenances if m.status != "completed"), key=lambda m: m.scheduled_for or m.created_at
        )
        events = _active_events(incidents, maintenances, now)
        shown = [replace(c, status=rules.effective_status(c.id, c.status, events)) for c in recorded]
        statuses = [c.status for c in shown]
        ind, desc = rules.indicator(statuses, [i.impact for i in incidents])
        stamps = [c.updated_at for c in recorded] + [i.updated_at for i in incidents + maintenances]
        return Snapshot(
            now, shown, incidents, maintenances, rules.overall(statuses), ind, desc, max(stamps, default=now)
        )

    async def history(self, limit: int = 50) -> list[Incident]:
        return [i for i in await self.store.incidents("incident", limit) if i.resolved_at is not None]

    async def all_maintenances(self, limit: int = 50) -> list[Incident]:
        now = utcnow()
        return [live_maintenance(m, now) for m in await self.store.incidents("maintenance", limit)]

    async def uptime(self, now: datetime | None = None, days: int = 90) -> list[ComponentUptime]:
        """90 daily bars per component from its recorded status changes and the incidents that touched it."""
        now = now or utcnow()
        since = now - timedelta(days=days)
        changes = await self.store.component_events(since)
        touched = [live_maintenance(i, now) if i.kind == "maintenance" else i for i in await self.store.since(since)]
        out: list[ComponentUptime] = []
        for c in await self.components():
            mine = [(s, at) for cid, s, at in changes if cid == c.id]
            events = [
                rules.Event(c.id, s, at, mine[k + 1][1] if k + 1 < len(mine) else None)
                for k, (s, at) in enumerate(mine)
            ]
            for i in touched:
                if c.id not in i.components:
                    continue
                if i.kind == "incident":
                    events.append(rules.Event(c.id, rules.impact_status(i.impact), i.created_at, i.resolved_at))
                elif i.status != "scheduled" and i.scheduled_for is not None:
                    events.append(rules.Event(c.id, "under_maintenance", i.scheduled_for, i.resolved_at))
            bars = rules.uptime_days(events, c.created_at, now, days)
            out.append(ComponentUptime(c, bars, rules.uptime_percent(bars)))
        return out
