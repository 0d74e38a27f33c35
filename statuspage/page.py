"""The status page as server-rendered HTML (readable without JavaScript) and the Atom feed of incidents.

Every text that an admin or a config file wrote is escaped here; nothing user-written reaches HTML raw.
"""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from xml.etree import ElementTree as ET

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from statuspage.api import base_url, incident_named, iso
from statuspage.service import ComponentUptime, StatusService, live_maintenance
from statuspage.store import Incident, utcnow

LABELS = {
    "operational": "Operational",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
    "under_maintenance": "Under maintenance",
    "no_data": "No data",
}
OVERALL_LABELS = {
    "operational": "All systems operational",
    "degraded": "Some systems degraded",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
}


def _when(dt: datetime | None) -> str:
    if dt is None:
        return ""
    return f'<time datetime="{iso(dt)}">{dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}</time>'


def _incident(i: Incident, base: str, names: dict[str, str], heading: str = "h3") -> str:
    updates = "".join(
        f'<li data-update-status="{escape(u.status)}"><strong>{escape(u.status.replace("_", " ").capitalize())}'
        f"</strong> {_when(u.created_at)}<p>{escape(u.body)}</p></li>"
        for u in i.updates
    )
    extra = ""
    if i.kind == "maintenance" and i.scheduled_for and i.scheduled_until:
        extra = f'<p class="window">Scheduled {_when(i.scheduled_for)} to {_when(i.scheduled_until)}</p>'
    affected = ", ".join(names.get(c, c) for c in i.components)
    affected = f'<p class="affected">Affects: {escape(affected)}</p>' if affected else ""
    return (
        f'<article class="incident impact-{escape(i.impact)}" data-incident="{escape(i.id)}" '
        f'data-status="{escape(i.status)}"><{heading}><a href="{escape(base)}/incidents/{escape(i.id)}">'
        f'{escape(i.name)}</a></{heading}>{extra}{affected}<ol class="updates">{updates}</ol></article>'
    )


def _bars(u: ComponentUptime) -> str:
    cells = "".join(
        f'<span class="bar s-{d.status}" title="{d.date.isoformat()}: {escape(LABELS[d.status])}'
        f'{"" if d.uptime is None else f" ({100 * d.uptime:.2f}%)"}"></span>'
        for d in u.days
    )
    pct = "no data" if u.percent is None else f"{u.percent:.2f} % uptime"
    return f'<div class="bars" aria-label="90 days">{cells}</div><p class="uptime">{pct} over 90 days</p>'


async def render_page(request: Request) -> Response:
    service: StatusService = request.app.state.service
    snap = await service.snapshot()
    base = base_url(request)
    uptime = {u.component.id: u for u in await service.uptime(snap.now)}
    history = await service.history(20)
    names = {c.id: c.name for c in snap.components}
    comps = "".join(
        f'<li class="component s-{c.status}" data-component="{escape(c.id)}" data-status="{c.status}">'
        f'<span class="name">{escape(c.name)}</span> <span class="status">{LABELS[c.status]}</span>'
        f"{f'<p class=desc>{escape(c.description)}</p>' if c.description else ''}"
        f"{_bars(uptime[c.id]) if c.id in uptime else ''}</li>"
        for c in snap.components
    )
    active = "".join(_incident(i, base, names) for i in snap.incidents) or '<p class="none">No active incidents.</p>'
    maint = "".join(_incident(m, base, names) for m in snap.maintenances)
    past = "".join(_incident(i, base, names) for i in history) or '<p class="none">No incidents reported.</p>'
    name = escape(service.page.name)
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name} status</title><link rel="stylesheet" href="/static/status.css">
<link rel="alternate" type="application/atom+xml" title="{name} incidents" href="/history.atom">
</head><body><main id="live" data-updated="{iso(snap.updated_at)}">
<h1>{name} status</h1>
<p class="overall o-{snap.overall}" data-overall="{snap.overall}" data-indicator="{snap.indicator}">
{OVERALL_LABELS[snap.overall]}</p>
<section id="incidents"><h2>Active incidents</h2>{active}</section>
{f'<section id="maintenances"><h2>Scheduled maintenance</h2>{maint}</section>' if maint else ""}
<section id="components"><h2>Components</h2><ul>{comps}</ul></section>
<section id="history"><h2>Past incidents</h2>{past}</section>
<footer><a href="/history.atom">Atom feed</a> · <a href="/api/v2/summary.json">API</a> ·
updated {_when(snap.updated_at)}</footer>
</main>{_subscribe_form() if request.app.state.settings.subscriptions_on else ""}
<script src="/static/status.js" defer></script></body></html>"""
    return HTMLResponse(body)


def _subscribe_form() -> str:
    """Outside the live part, so the refresh never swaps it away while someone types an address."""
    return (
        '<aside id="subscribe"><h2>Get status updates</h2>'
        '<form data-hl="subscribe" method="post" action="/api/subscriptions" '
        'data-sent="Check your inbox: follow the link in our message to confirm.">'
        '<label>E-mail <input type="email" name="email" required maxlength="254" autocomplete="email"></label> '
        '<button type="submit">Subscribe</button><p role="status"></p></form>'
        '<p class="desc">Webhooks: <code>POST /api/subscriptions {"webhook": "https://…"}</code>; '
        "every message carries an unsubscribe link.</p></aside>"
    )


async def render_incident(request: Request) -> Response:
    service: StatusService = request.app.state.service
    found = await incident_named(request, service)
    if found is None:
        return HTMLResponse("<!doctype html><title>Not found</title><p>No such incident.</p>", status_code=404)
    if found.kind == "maintenance":
        found = live_maintenance(found, utcnow())
    base = base_url(request)
    names = {c.id: c.name for c in await service.components()}
    return HTMLResponse(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(found.name)}</title>
<link rel="stylesheet" href="/static/status.css"></head><body><main>
<p><a href="{escape(base)}/">← {escape(service.page.name)} status</a></p>{_incident(found, base, names, "h1")}
</main></body></html>""")


async def atom_feed(request: Request) -> Response:
    service: StatusService = request.app.state.service
    base = base_url(request)
    found = await service.store.incidents("incident", 50) + await service.all_maintenances(20)
    found.sort(key=lambda i: i.updated_at, reverse=True)
    ns = "http://www.w3.org/2005/Atom"
    feed = ET.Element("feed", xmlns=ns)
    ET.SubElement(feed, "id").text = f"{base}/history.atom"
    ET.SubElement(feed, "title").text = f"{service.page.name} status - incident history"
    ET.SubElement(feed, "updated").text = iso(found[0].updated_at if found else utcnow())
    ET.SubElement(feed, "link", href=f"{base}/", rel="alternate", type="text/html")
    ET.SubElement(feed, "link", href=f"{base}/history.atom", rel="self")
    for i in found:
        entry = ET.SubElement(feed, "entry")
        ET.SubElement(entry, "id").text = f"{base}/incidents/{i.id}"
        ET.SubElement(entry, "title").text = i.name
        ET.SubElement(entry, "published").text = iso(i.created_at)
        ET.SubElement(entry, "updated").text = iso(i.updated_at)
        ET.SubElement(entry, "link", href=f"{base}/incidents/{i.id}", rel="alternate", type="text/html")
        ET.SubElement(entry, "category", term=i.status)
        # The html content is escaped once more by ElementTree, as Atom's type="html" expects.
        ET.SubElement(entry, "content", type="html").text = "".join(
            f"<p><small>{iso(u.created_at)}</small><br><strong>{escape(u.status)}</strong> - {escape(u.body)}</p>"
            for u in i.updates
        )
    xml = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8")
    return Response(xml, media_type="application/atom+xml; charset=utf-8")
