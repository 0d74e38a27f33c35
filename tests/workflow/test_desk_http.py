"""The desk's API on a real gateway (SQLite and PostgreSQL): tags, search, saved views, macros, bulk, charts, CSV."""

from __future__ import annotations

import csv
import io
import uuid

import httpx

from tests.workflow.conftest import auth, person


def word() -> str:
    """A word no other test writes: each test finds only its own tickets."""
    return f"zq{uuid.uuid4().hex[:8]}"


async def open_ticket(http: httpx.AsyncClient, who: str, subject: str, body: str = "Hello") -> dict:
    response = await http.post("/api/tickets", headers=auth(who), json={"subject": subject, "body": body})
    assert response.status_code == 201, response.text
    return response.json()


async def post(http: httpx.AsyncClient, who: str, ticket: str, body: str, internal: bool = False) -> None:
    sent = await http.post(
        f"/api/tickets/{ticket}/messages",
        headers=auth(who),
        json={"body": body, "client_id": uuid.uuid4().hex, "internal": internal},
    )
    assert sent.status_code == 201, sent.text


async def search(http: httpx.AsyncClient, who: str, **params: str) -> httpx.Response:
    return await http.get("/api/search", headers=auth(who), params=params)


async def test_agents_tag_tickets_and_filter_the_queue_and_the_counts_by_tag(http: httpx.AsyncClient) -> None:
    agent, carol = person("alice", role="agent"), person("carol", "pro")
    tag = word()
    first = await open_ticket(http, carol, "Chart frozen")
    other = await open_ticket(http, carol, "Invoice")
    tagged = await http.post(
        f"/api/tickets/{first['id']}/tags", headers=auth(agent), json={"add": [tag.upper(), "vip"]}
    )
    assert tagged.status_code == 200, tagged.text
    assert tagged.json()["tags"] == sorted([tag, "vip"])  # stored lowercase
    seen = (await http.get(f"/api/tickets/{first['id']}", headers=auth(agent))).json()["ticket"]
    assert seen["tags"] == sorted([tag, "vip"])

    queue = (await http.get("/api/tickets", headers=auth(agent), params={"tag": tag, "status": "all"})).json()
    assert [t["id"] for t in queue["tickets"]] == [first["id"]] and other["id"] != first["id"]
    counts = {c["tag"]: c["count"] for c in (await http.get("/api/tags", headers=auth(agent))).json()}
    assert counts[tag] == 1

    removed = await http.post(f"/api/tickets/{first['id']}/tags", headers=auth(agent), json={"remove": ["vip"]})
    assert removed.json()["tags"] == [tag]
    bad = await http.post(f"/api/tickets/{first['id']}/tags", headers=auth(agent), json={"add": ["no spaces"]})
    assert bad.status_code == 400 and "add" in bad.json()["error"]["message"]
    refused = await http.post(f"/api/tickets/{first['id']}/tags", headers=auth(carol), json={"add": ["mine"]})
    assert refused.status_code == 403
    missing = await http.post("/api/tickets/nope/tags", headers=auth(agent), json={"add": ["x"]})
    assert missing.status_code == 404


async def test_search_finds_subjects_and_threads_and_a_customer_never_finds_an_internal_note(
    http: httpx.AsyncClient,
) -> None:
    agent, carol, dave = person("alice", role="agent"), person("carol", "pro"), person("dave", "pro")
    secret, public, subject_word = word(), word(), word()
    ticket = await open_ticket(http, carol, f"Alerts {subject_word} twice", "My alerts fire twice")
    await post(http, agent, ticket["id"], f"note to self: {secret} is the cause", internal=True)
    await post(http, agent, ticket["id"], f"Try clearing the {public} cache")

    by_note = (await search(http, agent, q=secret)).json()
    assert [h["ticket"]["id"] for h in by_note["results"]] == [ticket["id"]]
    assert secret in by_note["results"][0]["snippet"]
    assert (await search(http, carol, q=secret)).json()["results"] == []  # the note stays the agents'
    by_reply = (await search(http, carol, q=public)).json()["results"]
    assert [h["ticket"]["id"] for h in by_reply] == [ticket["id"]] and secret not in (by_reply[0]["snippet"] or "")
    assert (await search(http, dave, q=public)).json()["results"] == []  # another customer's ticket
    assert [h["ticket"]["id"] for h in (await search(http, agent, q=subject_word)).json()["results"]] == [ticket["id"]]
    assert [h["ticket"]["id"] for h in (await search(http, agent, q=subject_word[:6])).json()["results"]] == [
        ticket["id"]
    ]  # the word being typed matches as a prefix
    assert (await search(http, carol, q=public, plan="pro")).status_code == 403
    assert (await search(http, agent, q="a", cursor="!!")).status_code == 400
    assert (await http.get("/api/search", params={"q": public})).status_code == 401


async def test_search_matches_vietnamese_with_or_without_its_diacritics(http: httpx.AsyncClient) -> None:
    """Agents type Vietnamese as customers do, marks or not: both engines fold them (PostgreSQL `unaccent` through
    `helpline_simple`, SQLite FTS5 `remove_diacritics`), on the subject, the thread and the word being typed."""
    agent, lan = person("alice", role="agent"), person("lan", "pro")
    mark = word()
    marked = await open_ticket(http, lan, f"Quên mật khẩu {mark}", f"Tôi không nhận được mã {mark}")
    plain = await open_ticket(http, lan, f"Hoan tien {mark}", f"Toi muon lay lai tien {mark}")

    def ids(response: httpx.Response) -> list[str]:
        assert response.status_code == 200, response.text
        return [h["ticket"]["id"] for h in response.json()["results"]]

    assert ids(await search(http, agent, q=f"quen mat khau {mark}")) == [marked["id"]]  # typed without marks
    assert ids(await search(http, agent, q=f"quên mật khẩu {mark}")) == [marked["id"]]
    assert ids(await search(http, agent, q=f"hoàn tiền {mark}")) == [plain["id"]]  # stored without marks
    assert ids(await search(http, agent, q=f"{mark} khong nhan")) == [marked["id"]]  # in the thread
    assert ids(await search(http, agent, q=f"{mark} mât khâ")) == [marked["id"]]  # other marks, prefix typed
    assert ids(await search(http, agent, q=f"{mark} hoan tiên")) == [plain["id"]]
    assert ids(await search(http, agent, q=f"{mark} khẩu tiền")) == []  # every word still has to match


async def test_search_filters_and_pages_with_cursors(http: httpx.AsyncClient) -> None:
    agent = person("alice", role="agent")
    mark = word()
    opened = [await open_ticket(http, person("pat", "premium"), f"{mark} number {i}") for i in range(3)]
    free = await open_ticket(http, person("fred"), f"{mark} free")
    await http.patch(f"/api/tickets/{opened[0]['id']}", headers=auth(agent), json={"status": "solved"})
    await http.post(f"/api/tickets/{opened[1]['id']}/tags", headers=auth(agent), json={"add": [mark]})

    ids = lambda r: [h["ticket"]["id"] for h in r.json()["results"]]  # noqa: E731
    assert ids(await search(http, agent, q=mark)) == [free["id"], *[t["id"] for t in reversed(opened)]]
    assert ids(await search(http, agent, q=mark, plan="free")) == [free["id"]]
    assert ids(await search(http, agent, q=mark, status="solved")) == [opened[0]["id"]]
    assert opened[0]["id"] not in ids(await search(http, agent, q=mark, status="active"))
    assert ids(await search(http, agent, tag=mark)) == [opened[1]["id"]]
    assert ids(await search(http, agent, q=mark, breached="true")) == []  # nobody waited past a target yet
    assert len(ids(await search(http, agent, q=mark, breached="false"))) == 4
    assert len(ids(await search(http, agent, q=mark, assignee="none"))) == 4
    assert ids(await search(http, agent, q=mark, since="2000-01-01", until="2000-01-02")) == []

    page1 = await search(http, agent, q=mark, limit="3")
    assert len(ids(page1)) == 3 and page1.json()["next"]
    page2 = await search(http, agent, q=mark, limit="3", cursor=page1.json()["next"])
    assert ids(page2) == [opened[0]["id"]] and page2.json()["next"] is None
    assert (await search(http, agent, since="yesterday")).status_code == 400


async def test_saved_views_are_shared_by_the_team(http: httpx.AsyncClient) -> None:
    alice, bob = person("alice", role="agent"), person("bob", role="agent")
    name = f"Premium breached {word()}"
    created = await http.post(
        "/api/views", headers=auth(alice), json={"name": name, "filters": {"plan": "premium", "breached": True}}
    )
    assert created.status_code == 201, created.text
    view = created.json()
    assert view["filters"] == {"plan": "premium", "breached": True}
    listed = (await http.get("/api/views", headers=auth(bob))).json()
    assert any(v["id"] == view["id"] and v["name"] == name for v in listed)
    assert (await http.post("/api/views", headers=auth(bob), json={"name": name, "filters": {}})).status_code == 409
    bad = await http.post("/api/views", headers=auth(bob), json={"name": "x", "filters": {"colour": "red"}})
    assert bad.status_code == 400
    edited = await http.patch(f"/api/views/{view['id']}", headers=auth(bob), json={"filters": {"tag": "VIP"}})
    assert edited.json()["filters"] == {"tag": "vip"} and edited.json()["name"] == name
    assert (await http.get("/api/views", headers=auth(person("carol")))).status_code == 403
    assert (await http.delete(f"/api/views/{view['id']}", headers=auth(alice))).status_code == 204
    assert (await http.delete(f"/api/views/{view['id']}", headers=auth(alice))).status_code == 404


async def test_renaming_a_view_or_a_macro_onto_a_taken_name_is_refused_and_changes_nothing(
    http: httpx.AsyncClient,
) -> None:
    """Views and macros share one store helper (persistence/team_records.py): each kind keeps its own names."""
    agent = person("alice", role="agent")
    taken, free = f"Taken {word()}", f"Free {word()}"
    for path, key, extra in (("/api/views", "name", {"filters": {}}), ("/api/macros", "title", {})):
        first = await http.post(path, headers=auth(agent), json={key: taken, **extra})
        second = await http.post(path, headers=auth(agent), json={key: free, **extra})
        assert first.status_code == second.status_code == 201, (first.text, second.text)
        clash = await http.patch(f"{path}/{second.json()['id']}", headers=auth(agent), json={key: taken})
        assert clash.status_code == 409 and "exists" in clash.json()["error"]["message"], clash.text
        listed = {r["id"]: r[key] for r in (await http.get(path, headers=auth(agent))).json()}
        assert listed[first.json()["id"]] == taken and listed[second.json()["id"]] == free
        missing = await http.patch(f"{path}/nope", headers=auth(agent), json={key: f"Other {word()}"})
        assert missing.status_code == 404
        for created in (first, second):
            assert (await http.delete(f"{path}/{created.json()['id']}", headers=auth(agent))).status_code == 204
        assert (await http.delete(f"{path}/{first.json()['id']}", headers=auth(agent))).status_code == 404


async def test_a_macro_replies_and_sets_status_tags_and_assignee_in_one_call(http: httpx.AsyncClient) -> None:
    agent, carol, admin = person("alice", role="agent"), person("carol", "pro"), person("root", role="admin")
    tag = word()
    macro = (
        await http.post(
            "/api/macros",
            headers=auth(agent),
            json={
                "title": f"Fixed {tag}",
                "body": "Hi {{customer.name}}, fixed now. {{agent.name}}",
                "status": "solved",
                "add_tags": [tag],
                "assignee": "me",
            },
        )
    ).json()
    ticket = await open_ticket(http, carol, "Broken")
    applied = await http.post(
        f"/api/macros/{macro['id']}/apply", headers=auth(agent), json={"ticket": ticket["id"], "client_id": "k1"}
    )
    assert applied.status_code == 200, applied.text
    view = applied.json()
    assert view["status"] == "solved" and view["tags"] == [tag] and view["assignee"]
    again = await http.post(
        f"/api/macros/{macro['id']}/apply", headers=auth(agent), json={"ticket": ticket["id"], "client_id": "k1"}
    )
    assert again.status_code == 200
    thread = (await http.get(f"/api/tickets/{ticket['id']}", headers=auth(carol))).json()
    replies = [m["body"] for m in thread["messages"] if m["author"]["role"] == "agent"]
    assert replies == ["Hi Carol, fixed now. Alice"]  # once, placeholders filled
    audit = (await http.get("/api/admin/audit", headers=auth(admin), params={"target": ticket["id"]})).json()
    actions = {e["action"] for e in audit["entries"]}
    assert {"ticket.macro", "ticket.tag", "ticket.status", "ticket.assign"} <= actions

    closed = await open_ticket(http, carol, "Old")
    await http.patch(f"/api/tickets/{closed['id']}", headers=auth(agent), json={"status": "closed"})
    reopen = (
        await http.post(
            "/api/macros",
            headers=auth(agent),
            json={"title": f"Reopen {tag}", "body": "Reopening", "status": "open", "add_tags": ["reopened"]},
        )
    ).json()
    refused = await http.post(
        f"/api/macros/{reopen['id']}/apply", headers=auth(agent), json={"ticket": closed["id"], "client_id": "k2"}
    )
    assert refused.status_code == 409
    after = (await http.get(f"/api/tickets/{closed['id']}", headers=auth(agent))).json()
    assert after["ticket"]["status"] == "closed" and after["ticket"]["tags"] == []  # all or nothing
    assert [m["body"] for m in after["messages"]] == ["Hello"]  # no reply either
    assert (await http.get("/api/macros", headers=auth(carol))).status_code == 403
    assert (await http.post("/api/macros", headers=auth(agent), json={"title": f"Fixed {tag}"})).status_code == 409


async def test_bulk_actions_apply_to_each_selected_ticket_and_report_each_outcome(http: httpx.AsyncClient) -> None:
    agent, tag = person("alice", role="agent"), word()
    ids = [(await open_ticket(http, person("fran"), f"bulk {tag}"))["id"] for _ in range(3)]

    async def bulk(**body: object) -> dict:
        response = await http.post("/api/tickets/bulk", headers=auth(agent), json=body)
        assert response.status_code == 200, response.text
        return response.json()

    assigned = await bulk(tickets=[*ids, "nope"], action="assign", assignee="me")
    assert [r["ok"] for r in assigned["results"]] == [True, True, True, False]
    assert assigned["results"][3]["error"] == "not_found"
    assert all(r["ok"] for r in (await bulk(tickets=ids, action="tag", tags=[tag]))["results"])
    assert all(r["ok"] for r in (await bulk(tickets=ids[:2], action="review"))["results"])
    assert all(r["ok"] for r in (await bulk(tickets=ids[:1], action="solve"))["results"])
    views = [(await http.get(f"/api/tickets/{i}", headers=auth(agent))).json()["ticket"] for i in ids]
    assert all(v["tags"] == [tag] and v["assignee"] for v in views)
    assert [bool(v["reviewed_at"]) for v in views] == [True, True, False]
    assert [v["status"] for v in views] == ["solved", "open", "open"]
    bad_tag = {"tickets": ids, "action": "tag", "tags": ["a b"]}
    assert (await http.post("/api/tickets/bulk", headers=auth(agent), json=bad_tag)).status_code == 400
    refused = await http.post(
        "/api/tickets/bulk", headers=auth(person("fran")), json={"tickets": ids, "action": "solve"}
    )
    assert refused.status_code == 403


async def test_report_charts_and_csv_export_count_tickets_by_plan_and_by_tag(http: httpx.AsyncClient) -> None:
    agent, tag = person("alice", role="agent"), word()
    ticket = await open_ticket(http, person("pam", "premium"), "Chart")
    await http.post(f"/api/tickets/{ticket['id']}/tags", headers=auth(agent), json={"add": [tag]})
    await post(http, agent, ticket["id"], "On it")
    charts = (await http.get("/api/reports/charts", headers=auth(agent), params={"days": 7})).json()
    assert charts["bucket"] == "day"
    plans = [s["plan"] for s in charts["series"]]
    assert plans == ["premium", "pro_plus", "pro", "free", "all"]
    premium = charts["series"][0]["points"]
    assert len(premium) == 8 and premium[-1]["volume"] >= 1 and premium[-1]["met"] >= 1
    assert premium[-1]["first_response_median_s"] is not None
    assert {"tag": tag, "volume": 1} in charts["tags"]

    exported = await http.get("/api/reports/export.csv", headers=auth(agent), params={"days": 7})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][:3] == ["bucket_start", "plan", "volume"] and len(rows) == 1 + 5 * 8
    tags_csv = await http.get("/api/reports/export.csv", headers=auth(agent), params={"days": 7, "kind": "tags"})
    assert [tag, "1"] in list(csv.reader(io.StringIO(tags_csv.text)))
    assert (await http.get("/api/reports/charts", headers=auth(person("carol")))).status_code == 403
