"""`python -m bench.widget_probe URL [LOADS]`: the widget's first load in headless Chromium, printed as JSON.

Two pages: the demo page at URL (`?token=` hands it the customer), and a bare host on the same origin whose only
script is the embed (`<script src="/widget.js" async data-token=…>`, answered by Playwright, not the gateway). The
demo page's own modules (session.js) import client.js, dom.js and i18n.js, so there the embed finds them loaded;
the bare host is what a platform that shares nothing with Helpline sees, and the figure the goal is judged on.

Runs under the project's .venv (Playwright is a test dependency there), with Debian's /usr/bin/chromium; imports
nothing else of the bench. Each load is a fresh browser context (cold cache). The embed is /widget.js and every
request it starts, directly or through its imports (followed by the DevTools initiator of each request); the host
page's own files are not counted.
"""

from __future__ import annotations

import json
import statistics
import sys
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
EMBED = "/widget.js"

# Polls every frame from the first script on: when did the launcher inside <helpline-widget>'s shadow root become
# visible, and when did the browser start fetching /widget.js (the script tag)?
TIMING = """
(() => {
  const poll = () => {
    const host = document.querySelector("helpline-widget");
    const el = host && host.shadowRoot && host.shadowRoot.querySelector("[data-hl=launcher]");
    if (el && el.checkVisibility && el.checkVisibility({ checkVisibilityCSS: true }) && el.getBoundingClientRect().width > 0) {
      window.__hlLauncherAt = performance.now();
      return;
    }
    requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
})();
"""


# DevTools names no script for a request a `<link rel=modulepreload>` started: its initiator is "about:client". On
# the demo page only the loader adds such links (its hints for the widget's first view), so they count as its own.
PRELOAD_INITIATOR = "about:client"


def _initiator_url(params: dict[str, Any]) -> str:
    init = params.get("initiator") or {}
    if init.get("url") == PRELOAD_INITIATOR:
        return PRELOAD_INITIATOR
    if init.get("url"):
        return str(init["url"])
    stack = init.get("stack") or {}
    while stack:
        for frame in stack.get("callFrames") or []:
            if frame.get("url"):
                return str(frame["url"])
        stack = stack.get("parent") or {}
    return ""


BARE_HOST = "/__bench_bare_host"


def bare_host_html(token: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>host</title></head><body><p>host</p>'
        f'<script src="/widget.js" async data-token="{token}"></script></body></html>'
    )


def one_load(browser: Any, url: str, bare: bool = False) -> dict[str, Any]:
    context = browser.new_context()
    page = context.new_page()
    if bare:
        parts = urlsplit(url)
        token = parse_qs(parts.query)["token"][0]
        url = f"{parts.scheme}://{parts.netloc}{BARE_HOST}"
        page.route(url, lambda route: route.fulfill(status=200, content_type="text/html", body=bare_host_html(token)))
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    requests: dict[str, dict[str, Any]] = {}

    def sent(p: dict[str, Any]) -> None:
        requests[p["requestId"]] = {
            "url": p["request"]["url"],
            "from": _initiator_url(p),
            "bytes": 0,
            "encoding": "",
            "type": p.get("type", ""),
        }

    def answered(p: dict[str, Any]) -> None:
        r = requests.get(p["requestId"])
        if r is not None:
            headers = {k.lower(): v for k, v in (p["response"].get("headers") or {}).items()}
            r["encoding"] = headers.get("content-encoding", "")
            r["status"] = p["response"].get("status")

    def finished(p: dict[str, Any]) -> None:
        r = requests.get(p["requestId"])
        if r is not None:
            r["bytes"] = int(p.get("encodedDataLength") or 0)  # on the wire: headers + body as served

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.responseReceived", answered)
    cdp.on("Network.loadingFinished", finished)
    page.add_init_script(TIMING)
    page.goto(url, wait_until="load")
    page.wait_for_function("() => window.__hlLauncherAt !== undefined", timeout=30_000)
    page.wait_for_load_state("networkidle")
    launcher_at = page.evaluate("window.__hlLauncherAt")
    script_at = page.evaluate(
        f"(performance.getEntriesByName(new URL({EMBED!r}, location.href).href)[0] || {{}}).startTime"
    )
    context.close()
    return {**embed_requests(list(requests.values())), "script_to_launcher_ms": launcher_at - (script_at or 0.0)}


def embed_requests(requests: list[dict[str, Any]]) -> dict[str, Any]:
    """The embed's share of a page load: /widget.js and what it started, transitively, with each request's depth
    (1 = /widget.js itself; a module it imports is 2, and so on): the depth is the number of round trips in a row."""
    depth: dict[str, int] = {}
    for r in requests:
        if r["url"].split("?")[0].endswith(EMBED) and "/widget/" not in r["url"]:
            depth[r["url"]] = 1
            depth[PRELOAD_INITIATOR] = 1
    changed = True
    while changed:
        changed = False
        for r in requests:
            parent = depth.get(r["from"])
            if parent is not None and r["url"] not in depth:
                depth[r["url"]] = parent + 1
                changed = True
    embed = [r for r in requests if r["url"] in depth]
    code = [r for r in embed if r["type"] in ("Script", "Stylesheet")]
    depth.pop(PRELOAD_INITIATOR, None)
    return {
        "requests": len(embed),
        "bytes": sum(r["bytes"] for r in embed),
        "round_trips": max(depth.values(), default=0),
        "code_requests": len(code),
        "code_bytes": sum(r["bytes"] for r in code),
        "code_round_trips": max((depth[r["url"]] for r in code), default=0),
        "compressed": sum(1 for r in embed if r["encoding"]),
        "files": [
            [r["url"].split("/", 3)[-1], depth[r["url"]], r["type"], r["bytes"], r["encoding"]]
            for r in sorted(embed, key=lambda r: depth[r["url"]])
        ],
    }


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    last = runs[-1]
    return {
        "loads": len(runs),
        **{
            k: last[k]
            for k in ("requests", "bytes", "round_trips", "code_requests", "code_bytes", "code_round_trips", "files")
        },
        "compressed_responses": last["compressed"],
        "script_to_launcher_ms": statistics.median(r["script_to_launcher_ms"] for r in runs),
        "script_to_launcher_ms_each": [round(r["script_to_launcher_ms"], 1) for r in runs],
    }


def main(url: str, loads: int) -> dict[str, Any]:
    """The bare host's figures at the top level (the goal's), the demo page's under `demo_page`."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            bare = [one_load(browser, url, bare=True) for _ in range(loads)]
            demo = [one_load(browser, url) for _ in range(loads)]
        finally:
            browser.close()
    return {**summary(bare), "page": "bare host", "demo_page": summary(demo)}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3)))
