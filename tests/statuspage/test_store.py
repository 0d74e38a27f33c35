"""The status store, the same tests on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from statuspage.config import ComponentSpec
from statuspage.store import StatusStore

T0 = datetime(2025, 5, 1, 9, 0, tzinfo=timezone.utc)
SPECS = (
    ComponentSpec("charts", "Charts", "", 1, None),
    ComponentSpec("support-chat", "Support chat", "", 2, "gateway"),
)


async def test_components_are_synced_from_the_file_and_keep_their_recorded_status(store_url: str) -> None:
    store = StatusStore(store_url)
    try:
        await store.migrate()
        await store.sync_components(SPECS, T0)
        assert await store.set_component_status("support-chat", "major_outage", T0 + timedelta(minutes=1))
        assert not await store.set_component_status("nope", "major_outage", T0)
    finally:
        await store.close()
    reopened = StatusStore(store_url)  # what a restart sees
    try:
        await reopened.migrate()
        renamed = (
            ComponentSpec("support-chat", "Live chat", "d", 1, "gateway"),
            ComponentSpec("charts", "Charts", "", 2, None),
        )
        await reopened.sync_components(renamed, T0 + timedelta(hours=1))
        found = await reopened.components()
        assert [(c.id, c.name, c.status) for c in found] == [
            ("support-chat", "Live chat", "major_outage"),
            ("charts", "Charts", "operational"),
        ]
        assert found[0].created_at == T0 and found[0].updated_at == T0 + timedelta(minutes=1)
    finally:
        await reopened.close()


async def test_status_changes_are_recorded_once_each_for_the_uptime_bars(store_url: str) -> None:
    store = StatusStore(store_url)
    try:
        await store.migrate()
        await store.sync_components(SPECS, T0)
        for minutes, status in [(1, "major_outage"), (2, "major_outage"), (3, "operational")]:
            await store.set_component_status("support-chat", status, T0 + timedelta(minutes=minutes))
        chat = [(s, at) for cid, s, at in await store.component_events(T0) if cid == "support-chat"]
        assert chat == [
            ("operational", T0),
            ("major_outage", T0 + timedelta(minutes=1)),
            ("operational", T0 + timedelta(minutes=3)),
        ]
        # Asked from later on, the last change before the window still starts the first span.
        later = [
            (s, at) for cid, s, at in await store.component_events(T0 + timedelta(minutes=2)) if cid == "support-chat"
        ]
        assert later == chat[1:]
    finally:
        await store.close()


async def test_incident_timeline_and_resolution(store_url: str) -> None:
    store = StatusStore(store_url)
    try:
        await store.migrate()
        await store.sync_components(SPECS, T0)
        first = await store.create_incident(
            kind="incident",
            name="Chat down",
            status="investigating",
            impact="major",
            components=["support-chat"],
            body="Looking",
            now=T0,
        )
        second = await store.create_incident(
            kind="incident",
            name="Charts slow",
            status="identified",
            impact="minor",
            components=["charts"],
            body="Cache",
            now=T0 + timedelta(minutes=5),
        )
        for minutes, status in [(10, "identified"), (10, "monitoring"), (20, "resolved")]:
            await store.add_update(first.id, status=status, body=f"now {status}", now=T0 + timedelta(minutes=minutes))
        done = await store.incident(first.id)
        assert done is not None
        assert [u.status for u in done.updates] == ["resolved", "monitoring", "identified", "investigating"]
        assert done.monitoring_at == T0 + timedelta(minutes=10)
        assert done.resolved_at == T0 + timedelta(minutes=20)
        assert done.components == ["support-chat"]
        assert [i.id for i in await store.unresolved()] == [second.id]
        assert [i.id for i in await store.incidents()] == [second.id, first.id]
        assert [i.id for i in await store.since(T0 + timedelta(minutes=30))] == [second.id]
        assert await store.add_update("missing", status="resolved", body="x", now=T0) is None
    finally:
        await store.close()
