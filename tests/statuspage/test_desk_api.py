"""The incident desk's server side over real HTTP: signing in with an admin token (a session cookie a browser
keeps), writes refused from another origin, every change in the audit log with who and what, and `/api/stream`
pushing each change (also one made by another status process on the same database)."""

from __future__ import annotations

import asyncio
import json
from typing import AsyncIterator

import httpx

from statuspage.app import create_app
from tests.statuspage.conftest import serve, token
from tests.statuspage.test_http import settings_for

INCIDENT = {"name": "Charts slow", "status": "investigating", "body": "Looking into it.", "impact": "major"}


async def signed_in(client: httpx.AsyncClient, base: str, role: str = "admin") -> httpx.Response:
    bearer = token(role)["authorization"].split(" ", 1)[1]
    return await client.post(f"{base}/api/session", json={"token": bearer}, headers={"origin": base})


async def test_an_admin_signs_in_and_every_change_is_audited_with_who_and_what(store_url: str) -> None:
    with serve(create_app(settings_for(store_url))) as base:
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{base}/api/session")).status_code == 401
            signin = await signed_in(client, base)
            assert signin.status_code == 200, signin.text
            cookie = signin.headers["set-cookie"].lower()
            assert "httponly" in cookie and "samesite=strict" in cookie
            assert (await client.get(f"{base}/api/session")).json() == {"admin": {"id": "u-admin", "name": "admin"}}

            made = await client.post(f"{base}/api/incidents", json=INCIDENT, headers={"origin": base})
            assert made.status_code == 201, made.text
            iid = made.json()["id"]
            update = {"status": "resolved", "body": "Fixed.", "components": ["charts"]}
            done = await client.post(f"{base}/api/incidents/{iid}/updates", json=update, headers={"origin": base})
            assert done.status_code == 201, done.text

            entries = (await client.get(f"{base}/api/audit")).json()["entries"]
            assert [(e["action"], e["target"], e["actor"]["name"]) for e in entries] == [
                ("incident.updated", iid, "admin"),
                ("incident.created", iid, "admin"),
            ]
            assert entries[1]["detail"]["name"] == "Charts slow" and entries[1]["detail"]["impact"] == "major"
            assert entries[0]["detail"] == {"status": "resolved", "body": "Fixed.", "components": ["charts"]}
            assert entries[0]["at"].endswith("Z")

            await client.delete(f"{base}/api/session")
            assert (await client.get(f"{base}/api/audit")).status_code == 401


async def test_the_desk_refuses_other_roles_and_writes_from_another_origin(sqlite_url: str) -> None:
    with serve(create_app(settings_for(sqlite_url))) as base:
        async with httpx.AsyncClient() as client:
            refused = await signed_in(client, base, role="agent")
            assert refused.status_code == 403 and "set-cookie" not in refused.headers
            assert (await signed_in(client, base)).status_code == 200
            for headers in ({"origin": "https://evil.example"}, {}, {"sec-fetch-site": "cross-site"}):
                r = await client.post(f"{base}/api/incidents", json=INCIDENT, headers=headers)
                assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", headers
            assert (await client.get(f"{base}/api/incidents")).json()["incidents"] == []
            assert (await client.get(f"{base}/api/audit")).json()["entries"] == []
            page = await client.get(f"{base}/desk")
            assert page.status_code == 200 and "/static/desk.js" in page.text


async def status_events(client: httpx.AsyncClient, base: str) -> AsyncIterator[dict]:
    async with client.stream("GET", f"{base}/api/stream") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        event = None
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "status":
                yield json.loads(line[6:])


async def test_the_stream_pushes_every_change_also_one_made_by_another_status_process(sqlite_url: str) -> None:
    with serve(create_app(settings_for(sqlite_url))) as base, serve(create_app(settings_for(sqlite_url))) as other:
        async with httpx.AsyncClient(timeout=30) as client:
            events = status_events(client, base)
            first = await asyncio.wait_for(anext(events), 10)
            assert first["incidents"] == [] and first["overall"] == "operational"

            made = await client.post(
                f"{base}/api/incidents", json=INCIDENT | {"components": ["charts"]}, headers=token()
            )
            assert made.status_code == 201
            pushed = await asyncio.wait_for(anext(events), 10)
            assert [i["name"] for i in pushed["incidents"]] == ["Charts slow"]
            assert pushed["overall"] == "partial_outage"

            # Resolved through the other process: this one's stream still tells its subscribers.
            iid = made.json()["id"]
            r = await client.post(
                f"{other}/api/incidents/{iid}/updates", json={"status": "resolved", "body": "Fixed."}, headers=token()
            )
            assert r.status_code == 201
            pushed = await asyncio.wait_for(anext(events), 10)
            assert pushed["incidents"] == [] and pushed["overall"] == "operational"
            await events.aclose()


async def test_maintenance_and_component_changes_from_the_desk_are_audited_too(sqlite_url: str) -> None:
    with serve(create_app(settings_for(sqlite_url))) as base:
        async with httpx.AsyncClient(headers={"origin": base}) as client:
            assert (await signed_in(client, base)).status_code == 200
            window = {"scheduled_for": "2030-01-01T02:00:00Z", "scheduled_until": "2030-01-01T03:00:00Z"}
            made = await client.post(
                f"{base}/api/maintenances",
                json={"name": "Database upgrade", "body": "Read-only for an hour.", "components": ["trading"]} | window,
            )
            assert made.status_code == 201, made.text
            mid = made.json()["id"]
            moved = await client.post(
                f"{base}/api/maintenances/{mid}/updates", json={"status": "in_progress", "body": "Started."}
            )
            assert moved.status_code == 201
            assert (
                await client.patch(f"{base}/api/components/charts", json={"status": "degraded_performance"})
            ).status_code == 200
            entries = (await client.get(f"{base}/api/audit")).json()["entries"]
            assert [(e["action"], e["target"]) for e in entries] == [
                ("component.changed", "charts"),
                ("maintenance.updated", mid),
                ("maintenance.created", mid),
            ]
            assert entries[0]["detail"] == {"status": "degraded_performance"}
