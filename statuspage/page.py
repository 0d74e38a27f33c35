"""The status page as server-rendered HTML (readable without JavaScript) and the Atom feed of incidents.

Every text that an admin or a config file wrote is escaped here; nothing user-written reaches HTML raw.
"""

from __future__ import annotations

from datetime import date, datetime
from html import escape
from xml.etree import ElementTree as ET

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from babel.dates import format_date
from babel.numbers import format_decimal

from statuspage.api import base_url, incident_named, iso
from statuspage.service import ComponentUptime, StatusService, live_maintenance
from statuspage.store import Incident
from statuspage.tables import utcnow
from support.core.i18n import PLACEHOLDER, format_datetime, message, negotiate

# The language follows Accept-Language when ?lang= does not choose it: a cache must keep one copy per language.
VARY = {"Vary": "Accept-Language"}
# The head's shared links: the page's style and its tab icon (without one, every browser asks for /favicon.ico).
HEAD_LINKS = (
    '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/static/status.css">'
)


def viewer_language(request: Request) -> str:
    """The page's language: ?lang=, then Accept-Language (a public page: no token, so no `locale` claim)."""
    return negotiate(None, request.query_params.get("lang"), request.headers.get("accept-language"))


class Words:
    """The status page's messages in one language, and dates in it (UTC on the server; status.js rewrites each
    <time> in the viewer's time zone)."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __call__(self, key: str, **params: object) -> str:
        return escape(message(self.language, f"status.{key}", params))

    def with_markup(self, key: str, **markup: str) -> str:
        """A message whose placeholders take markup made here (<time>): the words are escaped, the markup is not."""
        text = escape(message(self.language, f"status.{key}"))
        return PLACEHOLDER.sub(lambda found: markup.get(found.group(1), found.group(0)), text)

    def percent(self, value: float) -> str:
        return str(format_decimal(value, "0.00", locale=self.language))

    def day(self, value: date) -> str:
        """A day in the viewer's words ("Dec 3, 2026", "3 thg 12, 2026"), unescaped: it goes into a message."""
        return str(format_date(value, format="medium", locale=self.language))

    def when(self, dt: datetime | None) -> str:
        if dt is None:
            return ""
        shown = format_datetime(dt, self.language, "UTC", width="medium")
        return f'<time datetime="{iso(dt)}">{escape(shown)} UTC</time>'


def _incident(i: Incident, base: str, names: dict[str, str], w: Words, heading: str = "h3") -> str:
    updates = "".join(
        f'<li data-update-status="{escape(u.status)}"><strong>{w("update." + u.status)}'
        f"</strong> {w.when(u.created_at)}<p>{escape(u.body)}</p></li>"
        for u in i.updates
    )
    extra = ""
    if i.kind == "maintenance" and i.scheduled_for and i.scheduled_until:
        window = w.with_markup("scheduled", start=w.when(i.scheduled_for), end=w.when(i.scheduled_until))
        extra = f'<p class="window">{window}</p>'
    affected = ", ".join(names.get(c, c) for c in i.components)
    affected = f'<p class="affected">{w("affects", components=affected)}</p>' if affected else ""
    return (
        f'<article class="incident impact-{escape(i.impact)}" data-incident="{escape(i.id)}" '
        f'data-status="{escape(i.status)}"><{heading}><a href="{escape(base)}/incidents/{escape(i.id)}">'
        f'{escape(i.name)}</a></{heading}>{extra}{affected}<ol class="updates">{updates}</ol></article>'
    )


def _bars(u: ComponentUptime, w: Words) -> str:
    cells = "".join(
        f'<span class="bar s-{d.status}" title="{d.date.isoformat()}: {w("component." + d.status)}'
        f'{"" if d.uptime is None else f" ({w.percent(100 * d.uptime)}%)"}"></span>'
        for d in u.days
    )
    observed = [d for d in u.days if d.status != "no_data"]  # no data only before the component was known
    if u.percent is None:
        pct = w("uptimeNoData")
    elif len(observed) < len(u.days):  # younger than the bars: since when, not "over 90 days" it was not watched
        pct = w("uptimeSince", percent=w.percent(u.percent), since=w.day(observed[0].date))
    else:
        pct = w("uptime", percent=w.percent(u.percent))
    return f'<div class="bars" aria-label="{w("ninetyDays")}">{cells}</div><p class="uptime">{pct}</p>'


async def render_page(request: Request) -> Response:
    service: StatusService = request.app.state.service
    w = Words(viewer_language(request))
    snap = await service.snapshot()
    base = base_url(request)
    uptime = {u.component.id: u for u in await service.uptime(snap.now)}
    history = await service.history(20)
    names = {c.id: c.name for c in snap.components}
    comps = "".join(
        f'<li class="component s-{c.status}" data-component="{escape(c.id)}" data-status="{c.status}">'
        f'<span class="name">{escape(c.name)}</span> <span class="status">{w("component." + c.status)}</span>'
        f"{f'<p class=desc>{escape(c.description)}</p>' if c.description else ''}"
        f"{_bars(uptime[c.id], w) if c.id in uptime else ''}</li>"
        for c in snap.components
    )
    active = "".join(_incident(i, base, names, w) for i in snap.incidents) or f'<p class="none">{w("noActive")}</p>'
    maint = "".join(_incident(m, base, names, w) for m in snap.maintenances)
    past = "".join(_incident(i, base, names, w) for i in history) or f'<p class="none">{w("noPast")}</p>'
    name = service.page.name
    body = f"""<!doctype html>
<html lang="{w.language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{w("pageTitle", name=name)}</title>{HEAD_LINKS}
<link rel="alternate" type="application/atom+xml" title="{w("feedTitle", name=name)}" href="/history.atom">
</head><body><main id="live" data-updated="{iso(snap.updated_at)}">
<h1>{w("pageTitle", name=name)}</h1>
<p class="overall o-{snap.overall}" data-overall="{snap.overall}" data-indicator="{snap.indicator}">
{w("overall." + snap.overall)}</p>
<section id="incidents"><h2>{w("activeIncidents")}</h2>{active}</section>
{f'<section id="maintenances"><h2>{w("maintenance")}</h2>{maint}</section>' if maint else ""}
<section id="components"><h2>{w("components")}</h2><ul>{comps}</ul></section>
<section id="history"><h2>{w("past")}</h2>{past}</section>
<footer><a href="/history.atom">{w("feed")}</a> · <a href="/api/v2/summary.json">{w("api")}</a> ·
{w.with_markup("updated", when=w.when(snap.updated_at))}</footer>
</main>{_subscribe_form(w) if request.app.state.settings.subscriptions_on else ""}
<script src="/static/status.js" defer></script></body></html>"""
    return HTMLResponse(body, headers=VARY)


def _subscribe_form(w: Words) -> str:
    """Outside the live part, so the refresh never swaps it away while someone types an address."""
    return (
        f'<aside id="subscribe"><h2>{w("subscribe.title")}</h2>'
        f'<form data-hl="subscribe" method="post" action="/api/subscriptions" data-sent="{w("subscribe.sent")}">'
        f'<label>{w("subscribe.email")} <input type="email" name="email" required maxlength="254" '
        f'autocomplete="email"></label> <button type="submit">{w("subscribe.button")}</button>'
        f'<p role="status"></p></form><p class="desc">{w("subscribe.webhooks")} '
        '<code>POST /api/subscriptions {"webhook": "https://…"}</code></p></aside>'
    )


async def render_incident(request: Request) -> Response:
    service: StatusService = request.app.state.service
    w = Words(viewer_language(request))
    found = await incident_named(request, service)
    if found is None:
        return HTMLResponse(
            f'<!doctype html><html lang="{w.language}"><title>{w("notFoundTitle")}</title><p>{w("notFound")}</p>',
            status_code=404,
            headers=VARY,
        )
    if found.kind == "maintenance":
        found = live_maintenance(found, utcnow())
    base = base_url(request)
    names = {c.id: c.name for c in await service.components()}
    return HTMLResponse(
        f"""<!doctype html>
<html lang="{w.language}"><head><meta charset="utf-8"><title>{escape(found.name)}</title>
{HEAD_LINKS}</head><body><main>
<p><a href="{escape(base)}/">{w("back", name=service.page.name)}</a></p>{_incident(found, base, names, w, "h1")}
</main><script src="/static/status.js" defer></script></body></html>""",
        headers=VARY,
    )


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
