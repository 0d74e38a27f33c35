"""The status page's own store (SQLite or PostgreSQL via SQLAlchemy async): components, their status
changes, incidents and maintenances with their updates.

Shares no table, engine or module with the gateway's persistence; it must work while that database is down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from statuspage.config import ComponentSpec
from statuspage.migrate import upgrade_on
from statuspage.tables import (
    Actor,
    ComponentEventRow,
    ComponentRow,
    IncidentRow,
    UpdateRow,
    audit_row,
    new_id,
)


@dataclass(frozen=True)
class Component:
    id: str
    name: str
    description: str
    position: int
    status: str  # as recorded (by an admin or the probes); incidents may make it look worse
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Update:
    id: str
    status: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class Incident:
    id: str
    kind: str
    name: str
    status: str
    impact: str
    components: list[str]
    created_at: datetime
    updated_at: datetime
    monitoring_at: datetime | None
    resolved_at: datetime | None
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None
    updates: list[Update] = field(default_factory=list)  # newest first, as in the v2 API


class StatusStore:
    """Async access to the status tables; one instance per app, built from a SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(url)
        self._session = async_sessionmaker(self.engine, expire_on_commit=False)

    async def migrate(self) -> None:
        """Bring the schema to the newest revision of statuspage/migrations (one transaction where the engine can)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(upgrade_on)

    async def close(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> bool:
        """Whether the store answers (the page's /readyz)."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def sync_components(self, specs: tuple[ComponentSpec, ...], now: datetime) -> None:
        """Add the components the file names, refresh their names and order; recorded statuses are kept."""
        async with self._session.begin() as s:
            rows = {r.id: r for r in (await s.scalars(select(ComponentRow))).all()}
            added: list[str] = []
            for spec in specs:
                row = rows.get(spec.id)
                if row is None:
                    s.add(
                        ComponentRow(
                            id=spec.id,
                            name=spec.name,
                            description=spec.description,
                            position=spec.position,
                            status="operational",
                            created_at=now,
                            updated_at=now,
                        )
                    )
                    added.append(spec.id)
                else:
                    row.name, row.description, row.position = spec.name, spec.description, spec.position
            await s.flush()  # the components exist before their first event points at them
            s.add_all([ComponentEventRow(component_id=cid, status="operational", at=now) for cid in added])

    async def components(self) -> list[Component]:
        async with self._session() as s:
            rows = (await s.scalars(select(ComponentRow).order_by(ComponentRow.position))).all()
        return [Component(r.id, r.name, r.description, r.position, r.status, r.created_at, r.updated_at) for r in rows]

    async def set_component_status(
        self, component_id: str, status: str, now: datetime, actor: Actor | None = None
    ) -> bool:
        """Record a new status; False when the component is unknown. No event when nothing changed.
        An admin's change (`actor`) is audited; the probes' are not (they are the component's events)."""
        async with self._session.begin() as s:
            row = await s.get(ComponentRow, component_id)
            if row is None:
                return False
            if row.status != status:
                row.status, row.updated_at = status, now
                s.add(ComponentEventRow(component_id=component_id, status=status, at=now))
            if actor is not None:
                s.add(audit_row(actor, "component.changed", component_id, {"status": status}, now))
        return True

    async def component_events(self, since: datetime) -> list[tuple[str, str, datetime]]:
        """(component, status, at) oldest first, plus the last change before `since` so spans start right."""
        async with self._session() as s:
            rows = (
                await s.execute(
                    select(ComponentEventRow.component_id, ComponentEventRow.status, ComponentEventRow.at).order_by(
                        ComponentEventRow.at, ComponentEventRow.id
                    )
                )
            ).all()
        latest_before: dict[str, tuple[str, str, datetime]] = {}
        out: list[tuple[str, str, datetime]] = []
        for cid, status, at in rows:
            if at < since:
                latest_before[cid] = (cid, status, at)
            else:
                out.append((cid, status, at))
        return sorted(latest_before.values(), key=lambda e: e[2]) + out

    async def create_incident(
        self,
        *,
        kind: str,
        name: str,
        status: str,
        impact: str,
        components: list[str],
        body: str,
        now: datetime,
        scheduled_for: datetime | None = None,
        scheduled_until: datetime | None = None,
        actor: Actor | None = None,
    ) -> Incident:
        iid = new_id()
        async with self._session.begin() as s:
            s.add(
                IncidentRow(
                    id=iid,
                    kind=kind,
                    name=name,
                    status=status,
                    impact=impact,
                    components=components,
                    created_at=now,
                    updated_at=now,
                    monitoring_at=now if status == "monitoring" else None,
                    resolved_at=now if status in ("resolved", "completed") else None,
                    scheduled_for=scheduled_for,
                    scheduled_until=scheduled_until,
                )
            )
            await s.flush()
            s.add(UpdateRow(id=new_id(), incident_id=iid, seq=1, status=status, body=body, created_at=now))
            detail = {"name": name, "status": status, "impact": impact, "components": components, "body": body}
            s.add(audit_row(actor, f"{kind}.created", iid, detail, now))
        found = await self.incident(iid)
        assert found is not None
        return found

    async def add_update(
        self,
        incident_id: str,
        *,
        status: str,
        body: str,
        now: datetime,
        impact: str | None = None,
        components: list[str] | None = None,
        actor: Actor | None = None,
    ) -> Incident | None:
        async with self._session.begin() as s:
            row = await s.get(IncidentRow, incident_id)
            if row is None:
                return None
            row.status, row.updated_at = status, now
            if impact is not None:
                row.impact = impact
            if components is not None:
                row.components = list(components)
            if status == "monitoring" and row.monitoring_at is None:
                row.monitoring_at = now
            if status in ("resolved", "completed"):
                row.resolved_at = now
            last = await s.scalar(select(func.max(UpdateRow.seq)).where(UpdateRow.incident_id == incident_id))
            s.add(
                UpdateRow(
                    id=new_id(), incident_id=incident_id, seq=(last or 0) + 1, status=status, body=body, created_at=now
                )
            )
            detail: dict[str, Any] = {"status": status, "body": body}
            if impact is not None:
                detail["impact"] = impact
            if components is not None:
                detail["components"] = list(components)
            s.add(audit_row(actor, f"{row.kind}.updated", incident_id, detail, now))
        return await self.incident(incident_id)

    async def incident(self, incident_id: str) -> Incident | None:
        found = await self._load(select(IncidentRow).where(IncidentRow.id == incident_id))
        return found[0] if found else None

    async def incidents(self, kind: str = "incident", limit: int = 50) -> list[Incident]:
        """Newest first."""
        return await self._load(
            select(IncidentRow)
            .where(IncidentRow.kind == kind)
            .order_by(IncidentRow.created_at.desc(), IncidentRow.id)
            .limit(limit)
        )

    async def unresolved(self, kind: str = "incident") -> list[Incident]:
        return await self._load(
            select(IncidentRow)
            .where(IncidentRow.kind == kind, IncidentRow.resolved_at.is_(None))
            .order_by(IncidentRow.created_at.desc(), IncidentRow.id)
        )

    async def since(self, when: datetime) -> list[Incident]:
        """Incidents and maintenances that were open at some point after `when` (for uptime bars)."""
        return await self._load(
            select(IncidentRow).where((IncidentRow.resolved_at.is_(None)) | (IncidentRow.resolved_at >= when))
        )

    async def _load(self, query: Any) -> list[Incident]:
        async with self._session() as s:
            rows = (await s.scalars(query)).all()
            ids = [r.id for r in rows]
            updates: dict[str, list[Update]] = {i: [] for i in ids}
            if ids:
                found = (
                    await s.scalars(
                        select(UpdateRow).where(UpdateRow.incident_id.in_(ids)).order_by(UpdateRow.seq.desc())
                    )
                ).all()
                for u in found:
                    updates[u.incident_id].append(Update(u.id, u.status, u.body, u.created_at))
        return [
            Incident(
                r.id,
                r.kind,
                r.name,
                r.status,
                r.impact,
                list(r.components),
                r.created_at,
                r.updated_at,
                r.monitoring_at,
                r.resolved_at,
                r.scheduled_for,
                r.scheduled_until,
                updates[r.id],
            )
            for r in rows
        ]
