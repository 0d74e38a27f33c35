"""Admin-only calls refuse everyone else; the audit log records agents' and admins' acts."""

from __future__ import annotations

import re

import httpx

from tests.integrations.conftest import ADMIN, AGENT, auth, person


async def admin_operations(http: httpx.AsyncClient) -> list[tuple[str, str]]:
    document = (await http.get("/api/openapi.json")).json()
    return sorted(
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if op["x-helpline-access"] == "admin"
    )


async def test_non_admins_are_refused_everywhere_admin_only(http: httpx.AsyncClient) -> None:
    admin_ops = await admin_operations(http)
    assert ("POST", "/api/admin/users/{id}/erase") in admin_ops and ("GET", "/api/admin/audit") in admin_ops
    _, customer = person("nosy")
    for method, path in admin_ops:
        url = re.sub(r"{[^}]+}", "x0000", path)
        writes = method in ("POST", "PATCH")
        body = {"url": "https://example.invalid/x", "events": ["ticket.created"]} if writes else None
        for who in (customer, AGENT):
            response = await http.request(method, url, headers=auth(who), json=body)
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["error"]["code"] == "forbidden"
        anonymous = await http.request(method, url, json=body)
        assert anonymous.status_code == 401, (method, path)


async def test_audit_log_records_status_assignment_and_webhook_changes(http: httpx.AsyncClient) -> None:
    _, hal = person("hal")
    tid = (await http.post("/api/tickets", headers=auth(hal), json={"subject": "s", "body": "b"})).json()["id"]
    await http.patch(f"/api/tickets/{tid}", headers=auth(AGENT), json={"assignee": "agent-alice"})
    await http.patch(f"/api/tickets/{tid}", headers=auth(AGENT), json={"status": "solved"})
    entries = (await http.get(f"/api/admin/audit?target={tid}", headers=auth(ADMIN))).json()["entries"]
    assert [(e["action"], e["details"], e["actor"]["id"]) for e in entries] == [
        ("ticket.status", {"old": "open", "new": "solved"}, "agent-alice"),
        ("ticket.assign", {"old": None, "new": "agent-alice"}, "agent-alice"),
    ]
    # A customer's reply reopens the ticket by itself: not an act of an agent, so not audited.
    await http.post(f"/api/tickets/{tid}/messages", headers=auth(hal), json={"body": "again", "client_id": "r"})
    assert len((await http.get(f"/api/admin/audit?target={tid}", headers=auth(ADMIN))).json()["entries"]) == 2

    hook = (
        await http.post(
            "/api/admin/webhooks",
            headers=auth(ADMIN),
            json={"url": "http://127.0.0.1:9/x", "events": ["ticket.created"], "secret": "s" * 20},
        )
    ).json()
    assert hook["secret"] == "s" * 20
    await http.patch(f"/api/admin/webhooks/{hook['id']}", headers=auth(ADMIN), json={"active": False})
    await http.delete(f"/api/admin/webhooks/{hook['id']}", headers=auth(ADMIN))
    entries = (await http.get(f"/api/admin/audit?target={hook['id']}", headers=auth(ADMIN))).json()["entries"]
    assert [e["action"] for e in entries] == ["webhook.delete", "webhook.update", "webhook.create"]
    assert all("s" * 20 not in str(e["details"]) for e in entries)  # secrets never reach the log


async def test_audit_log_pages_newest_first(http: httpx.AsyncClient) -> None:
    page1 = (await http.get("/api/admin/audit?limit=2", headers=auth(ADMIN))).json()
    assert len(page1["entries"]) == 2 and page1["next"]
    page2 = (await http.get(f"/api/admin/audit?limit=2&before={page1['next']}", headers=auth(ADMIN))).json()
    ids = [int(e["id"]) for e in page1["entries"] + page2["entries"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)


async def test_webhook_registration_is_validated(http: httpx.AsyncClient) -> None:
    for body in (
        {"url": "ftp://example.com/x", "events": ["ticket.created"]},
        {"url": "https://example.com/x", "events": []},
        {"url": "https://example.com/x", "events": ["ticket.deleted"]},
        {"url": "https://example.com/x", "events": ["ticket.created"], "secret": "short"},
    ):
        response = await http.post("/api/admin/webhooks", headers=auth(ADMIN), json=body)
        assert response.status_code == 400, body
