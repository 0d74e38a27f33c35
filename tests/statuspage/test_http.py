"""The status page over real HTTP (uvicorn on a free port): incidents through the admin API, who may write,
the JSON and v2 API shapes, CORS, the page and the Atom feed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator
from xml.etree import ElementTree as ET

import httpx
import pytest

from statuspage import page, rules
from statuspage.service import ComponentUptime
from statuspage.settings import StatusSettings
from statuspage.store import Component
from statuspage.app import create_app
from tests.identity_provider import AUDIENCE, ISSUER, JwksServer, SigningKey
from tests.statuspage.conftest import SECRET, serve, token

ATOM = "{http://www.w3.org/2005/Atom}"


def settings_for(db_url: str, **extra: object) -> StatusSettings:
    # No gateway in these tests: probing nothing leaves support chat as recorded.
    values: dict[str, object] = dict(secret=SECRET, status_database_url=db_url, status_probe_urls=())
    values.update(extra)
    return StatusSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def base(sqlite_url: str) -> Iterator[str]:
    with serve(create_app(settings_for(sqlite_url))) as url:
        yield url


async def test_incident_lifecycle_ends_in_history_and_the_feed(store_url: str) -> None:
    with serve(create_app(settings_for(store_url))) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            r = await http.post(
                "/api/incidents",
                headers=token("admin"),
                json={
                    "name": "Support chat replies delayed",
                    "status": "investigating",
                    "impact": "major",
                    "body": "Messages take minutes to arrive.",
                    "components": ["support-chat"],
                },
            )
            assert r.status_code == 201
            incident = r.json()
            assert isinstance(incident["id"], str) and incident["resolved_at"] is None
            assert incident["components"] == ["support-chat"] and incident["impact"] == "major"

            status = (await http.get("/api/status")).json()
            assert status["overall"] == "partial_outage"
            assert {c["id"]: c["status"] for c in status["components"]}["support-chat"] == "partial_outage"
            assert [i["id"] for i in status["incidents"]] == [incident["id"]]

            for step in ("identified", "monitoring", "resolved"):
                r = await http.post(
                    f"/api/incidents/{incident['id']}/updates",
                    headers=token("admin"),
                    json={"status": step, "body": f"Now {step}."},
                )
                assert r.status_code == 201 and r.json()["status"] == step
            r = await http.post(
                f"/api/incidents/{incident['id']}/updates",
                headers=token("admin"),
                json={"status": "monitoring", "body": "again"},
            )
            assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"

            status = (await http.get("/api/status")).json()
            assert status["overall"] == "operational" and status["incidents"] == []
            history = (await http.get("/api/incidents", params={"state": "resolved"})).json()["incidents"]
            assert [i["id"] for i in history] == [incident["id"]]
            assert [u["status"] for u in history[0]["updates"]] == [
                "resolved",
                "monitoring",
                "identified",
                "investigating",
            ]
            assert history[0]["resolved_at"] is not None

            feed = ET.fromstring((await http.get("/history.atom")).content)
            entries = feed.findall(f"{ATOM}entry")
            assert [e.findtext(f"{ATOM}title") for e in entries] == ["Support chat replies delayed"]
            assert "Now resolved." in (entries[0].findtext(f"{ATOM}content") or "")
            assert (await http.get("/feed.atom")).headers["content-type"].startswith("application/atom+xml")

            page = (await http.get("/")).text
            past = page[page.index('id="history"') :]
            assert "Support chat replies delayed" in past and "Now resolved." in past
            assert (await http.get(f"/incidents/{incident['id']}")).status_code == 200


async def test_only_admins_may_write(base: str) -> None:
    incident = {"name": "x", "status": "investigating", "body": "y"}
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        r = await http.post("/api/incidents", json=incident)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        r = await http.post("/api/incidents", json=incident, headers=token("admin", secret="another-secret" * 4))
        assert r.status_code == 401
        r = await http.post("/api/incidents", json=incident, headers=token("admin", ttl_s=-60))
        assert r.status_code == 401
        for role in ("agent", "customer"):
            r = await http.post("/api/incidents", json=incident, headers=token(role))
            assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
            r = await http.patch("/api/components/charts", json={"status": "major_outage"}, headers=token(role))
            assert r.status_code == 403
        assert (await http.get("/api/incidents")).json()["incidents"] == []


async def test_admin_tokens_from_the_identity_provider_may_write(sqlite_url: str) -> None:
    admin, impostor = SigningKey("K1", "ES256"), SigningKey("K1", "ES256")
    provider = JwksServer(admin)
    try:
        settings = settings_for(sqlite_url, jwks_url=provider.url, jwt_issuer=ISSUER, jwt_audience=(AUDIENCE,))
        with serve(create_app(settings)) as base:
            async with httpx.AsyncClient(base_url=base, timeout=10) as http:
                incident = {"name": "Charts slow", "status": "investigating", "body": "Looking into it."}
                r = await http.post(
                    "/api/incidents",
                    json=incident,
                    headers={"authorization": f"Bearer {admin.sign('ops', role='admin')}"},
                )
                assert r.status_code == 201, r.text
                r = await http.post(
                    "/api/incidents",
                    json=incident,  # same kid, a key the provider never had
                    headers={"authorization": f"Bearer {impostor.sign('ops', role='admin')}"},
                )
                assert r.status_code == 401
                r = await http.post(
                    "/api/incidents",
                    json=incident,
                    headers={"authorization": f"Bearer {admin.sign('ed', role='agent')}"},
                )
                assert r.status_code == 403
    finally:
        provider.stop()


async def test_bad_incident_bodies_are_refused(base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10, headers=token("admin")) as http:
        for body in (
            {"name": "x", "status": "exploding", "body": "y"},
            {"name": "x", "status": "investigating", "body": "y", "impact": "huge"},
            {"name": "x", "status": "investigating", "body": "y", "components": ["nope"]},
            {"name": " ", "status": "investigating", "body": "y"},
            {"status": "investigating"},
        ):
            r = await http.post("/api/incidents", json=body)
            assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request", body
        r = await http.post("/api/incidents", content=b"not json")
        assert r.status_code == 400
        assert (
            await http.post("/api/incidents/nope/updates", json={"status": "resolved", "body": "x"})
        ).status_code == 404


async def test_admin_sets_a_component_and_v2_reports_it(base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        r = await http.patch("/api/components/trading", json={"status": "degraded_performance"}, headers=token("admin"))
        assert r.status_code == 200
        status = (await http.get("/api/v2/status.json")).json()
        assert set(status) == {"page", "status"}
        assert set(status["page"]) == {"id", "name", "url", "time_zone", "updated_at"}
        assert status["status"] == {"indicator": "minor", "description": "Partially Degraded Service"}
        comps = (await http.get("/api/v2/components.json")).json()["components"]
        trading = next(c for c in comps if c["id"] == "trading")
        assert trading["status"] == "degraded_performance"
        assert {
            "id",
            "name",
            "status",
            "created_at",
            "updated_at",
            "position",
            "description",
            "showcase",
            "start_date",
            "group_id",
            "page_id",
            "group",
            "only_show_if_degraded",
        } <= set(trading)
        assert (await http.get("/api/status")).json()["overall"] == "degraded"
        assert (
            await http.patch("/api/components/nope", json={"status": "operational"}, headers=token("admin"))
        ).status_code == 404


async def test_v2_incidents_and_maintenances_have_the_statuspage_shapes(base: str) -> None:
    now = datetime.now(timezone.utc)
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        admin = token("admin")
        inc = (
            await http.post(
                "/api/incidents",
                headers=admin,
                json={
                    "name": "Alerts late",
                    "status": "identified",
                    "impact": "critical",
                    "body": "Queue backlog.",
                    "components": ["alerts"],
                },
            )
        ).json()
        later = (
            await http.post(
                "/api/maintenances",
                headers=admin,
                json={
                    "name": "Database upgrade",
                    "body": "Sign-in paused.",
                    "components": ["sign-in"],
                    "scheduled_for": (now + timedelta(days=1)).isoformat(),
                    "scheduled_until": (now + timedelta(days=1, hours=1)).isoformat(),
                },
            )
        ).json()
        running = (
            await http.post(
                "/api/maintenances",
                headers=admin,
                json={
                    "name": "Feed failover drill",
                    "body": "Quotes may pause.",
                    "components": ["data-feeds"],
                    "scheduled_for": (now - timedelta(minutes=5)).isoformat(),
                    "scheduled_until": (now + timedelta(hours=1)).isoformat(),
                },
            )
        ).json()
        assert later["status"] == "scheduled" and running["status"] == "in_progress"

        summary = (await http.get("/api/v2/summary.json")).json()
        assert set(summary) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
        assert summary["status"]["indicator"] == "critical"
        statuses = {c["id"]: c["status"] for c in summary["components"]}
        assert statuses["alerts"] == "major_outage" and statuses["data-feeds"] == "under_maintenance"
        assert statuses["sign-in"] == "operational"
        [incident] = summary["incidents"]
        assert {
            "id",
            "name",
            "status",
            "created_at",
            "updated_at",
            "monitoring_at",
            "resolved_at",
            "impact",
            "shortlink",
            "started_at",
            "page_id",
            "incident_updates",
            "components",
        } <= set(incident)
        assert incident["id"] == inc["id"] and incident["shortlink"].endswith(f"/incidents/{inc['id']}")
        [update] = incident["incident_updates"]
        assert {
            "id",
            "status",
            "body",
            "incident_id",
            "created_at",
            "updated_at",
            "display_at",
            "affected_components",
        } <= set(update)
        assert update["incident_id"] == inc["id"] and update["body"] == "Queue backlog."
        assert [c["id"] for c in incident["components"]] == ["alerts"]
        assert [m["id"] for m in summary["scheduled_maintenances"]] == [running["id"], later["id"]]
        assert summary["scheduled_maintenances"][0]["impact"] == "maintenance"
        assert {"scheduled_for", "scheduled_until"} <= set(summary["scheduled_maintenances"][0])

        unresolved = (await http.get("/api/v2/incidents/unresolved.json")).json()
        assert [i["id"] for i in unresolved["incidents"]] == [inc["id"]]
        await http.post(
            f"/api/incidents/{inc['id']}/updates", headers=admin, json={"status": "resolved", "body": "Drained."}
        )
        assert (await http.get("/api/v2/incidents/unresolved.json")).json()["incidents"] == []
        everything = (await http.get("/api/v2/incidents.json")).json()["incidents"]
        assert [(i["id"], i["status"]) for i in everything] == [(inc["id"], "resolved")]
        maint = (await http.get("/api/v2/scheduled-maintenances.json")).json()["scheduled_maintenances"]
        assert {m["id"]: m["status"] for m in maint} == {later["id"]: "scheduled", running["id"]: "in_progress"}
        upcoming = (await http.get("/api/v2/scheduled-maintenances/upcoming.json")).json()
        assert [m["id"] for m in upcoming["scheduled_maintenances"]] == [later["id"]]
        active = (await http.get("/api/v2/scheduled-maintenances/active.json")).json()
        assert [m["id"] for m in active["scheduled_maintenances"]] == [running["id"]]


async def test_reads_are_cors_readable_from_any_origin(base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        for path in ("/api/status", "/api/v2/summary.json", "/api/incidents?state=resolved"):
            r = await http.get(path, headers={"origin": "https://trading.example"})
            assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"


async def test_page_renders_without_javascript_and_escapes_admin_text(base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        await http.post(
            "/api/incidents",
            headers=token("admin"),
            json={
                "name": "<script>alert(1)</script> Charts",
                "status": "investigating",
                "body": "<b>bold</b>",
                "components": ["charts"],
            },
        )
        page = (await http.get("/")).text
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; Charts" in page
        assert "&lt;b&gt;bold&lt;/b&gt;" in page
        for name in ("Charts", "Real-time data feeds", "Alerts", "Trading", "Sign-in", "Support chat"):
            assert f'<span class="name">{name}</span>' in page
        assert 'data-component="charts" data-status="degraded_performance"' in page
        assert page.count('class="bar ') == 6 * 90
        today = datetime.now(timezone.utc).strftime("%b %-d, %Y")  # "Dec 3, 2026": the page started watching today
        assert page.count(f"% uptime since {today}</p>") == 6 and "over 90 days" not in page
        uptime = (await http.get("/api/uptime")).json()["components"]
        assert len(uptime) == 6 and all(len(c["days"]) == 90 for c in uptime)
        assert (await http.get("/static/status.js")).status_code == 200


async def test_pages_send_the_gateways_security_headers(base: str) -> None:
    """The page may not be framed (clickjacking), sniffed into another type or load scripts from elsewhere."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        created = await http.post(
            "/api/incidents",
            headers=token("admin"),
            json={"name": "Feeds late", "status": "investigating", "body": "Looking.", "components": ["charts"]},
        )
        for path in ("/", f"/incidents/{created.json()['id']}", "/incidents/nope", "/history.atom", "/api/status"):
            r = await http.get(path)
            assert r.headers["x-content-type-options"] == "nosniff", path
            assert r.headers["x-frame-options"] == "DENY", path
            assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin", path
            csp = r.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "object-src 'none'" in csp


async def test_components_come_from_the_configured_file(tmp_path: Path, sqlite_url: str) -> None:
    file = tmp_path / "components.toml"
    file.write_text(
        '[page]\nname = "Acme"\n\n[[components]]\nid = "api"\nname = "Public API"\n\n'
        '[[components]]\nid = "chat"\nname = "Chat"\nprobe = "gateway"\n'
    )
    with serve(create_app(settings_for(sqlite_url, status_components_file=str(file)))) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            status = (await http.get("/api/status")).json()
            assert [(c["id"], c["name"]) for c in status["components"]] == [("api", "Public API"), ("chat", "Chat")]
            assert (await http.get("/api/v2/status.json")).json()["page"]["name"] == "Acme"


def test_settings_read_the_status_variables() -> None:
    s = StatusSettings.from_env(
        {
            "HELPLINE_STATUS_COMPONENTS": "/etc/c.toml",
            "HOST": "0.0.0.0",
            "PORT": "9000",
            "HELPLINE_STATUS_PROBE_INTERVAL_S": "2.5",
        }
    )
    assert s.status_components_file == "/etc/c.toml" and s.status_probe_interval_s == 2.5
    assert s.status_probe_urls == ("http://127.0.0.1:9000/readyz",)
    s = StatusSettings.from_env({"HELPLINE_STATUS_PROBE_URLS": "http://a:1/readyz, http://b:2/readyz"})
    assert s.status_probe_urls == ("http://a:1/readyz", "http://b:2/readyz")


async def test_maintenance_on_29_february_is_taken_in_leap_years_only_and_the_document_says_so(base: str) -> None:
    """The document's date-time pattern and the decoder agree: 29 February in a leap year (2100 is none) is a date,
    30 February never is (schemathesis sends what the pattern allows, and what it refuses)."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        doc = (await http.get("/api/openapi.json")).json()
        pattern = doc["components"]["schemas"]["NewMaintenance"]["properties"]["scheduled_for"]["pattern"]
        for day, taken in (
            ("2028-02-29", True),
            ("2096-02-29", True),
            ("2104-02-29", True),
            ("2027-02-29", False),
            ("2100-02-29", False),
            ("2028-02-30", False),
        ):
            window = {"scheduled_for": f"{day}T02:00:00Z", "scheduled_until": f"{day}T03:00:00+00:00"}
            assert bool(re.match(pattern, window["scheduled_for"])) is taken, day
            created = await http.post(
                "/api/maintenances",
                headers=token("admin"),
                json={"name": f"Window {day}", "body": "Planned.", **window},
            )
            assert created.status_code == (201 if taken else 400), (day, created.text)
            if taken:
                assert created.json()["scheduled_for"].startswith(day)


def test_the_uptime_line_says_since_when_until_there_are_ninety_days_to_show() -> None:
    """A component watched for three days is not "99.9 % over 90 days"; one watched for the whole window is."""
    now = datetime(2026, 12, 3, 12, tzinfo=timezone.utc)
    charts = Component("charts", "Charts", "", 0, "operational", now, now)
    young = [rules.Day((now - timedelta(days=back)).date(), "no_data", None) for back in range(89, 2, -1)]
    young += [rules.Day((now - timedelta(days=back)).date(), "operational", 1.0) for back in range(2, -1, -1)]
    old = [rules.Day((now - timedelta(days=back)).date(), "operational", 1.0) for back in range(89, -1, -1)]
    assert "100.00 % uptime since Dec 1, 2026</p>" in page._bars(
        ComponentUptime(charts, young, 100.0), page.Words("en")
    )
    assert "100.00 % uptime over 90 days</p>" in page._bars(ComponentUptime(charts, old, 100.0), page.Words("en"))
    vietnamese = page._bars(ComponentUptime(charts, young, 100.0), page.Words("vi"))
    assert "kể từ 1 thg 12, 2026</p>" in vietnamese
