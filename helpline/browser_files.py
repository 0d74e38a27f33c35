"""The browser surfaces' files (the `widget` package: embed/, desk/, pages/), loaded once per process.

Pages and the loader are rewritten once at load to point at `/widget/<version>/…`, where every module is immutable;
the stable names (`/widget.js`, `/support`, `/dashboard`, …) are revalidated by ETag.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response

from support.core.i18n import LANGUAGES, surface_messages
from support.web.http import error_response
from support.web.static import REVALIDATE, AssetTree

LOADER = "embed/widget.js"
LOADER_BUILD_MARKER = b'var build = "";'
# `/widget.js` is pasted into hosts' pages: a short lifetime spares them a request per page view, the ETag makes
# the check after it a 304.
LOADER_CACHE = "public, max-age=300"


def point_at_version(name: str, body: bytes, version: str) -> bytes:
    if name.endswith(".html"):
        return body.replace(b'"/widget/', f'"/widget/{version}/'.encode())
    if name == LOADER:
        if LOADER_BUILD_MARKER not in body:
            raise ValueError(f"{LOADER} lost its build marker {LOADER_BUILD_MARKER!r}")
        return body.replace(LOADER_BUILD_MARKER, f'var build = "{version}";'.encode())
    return body


# The browser's message modules and the catalogue surfaces each carries: the widget's words come with the error
# messages (every surface shows those), the Support tab and the desk add their own on top of the widget's.
BROWSER_MODULES = {"widget": ("widget", "errors"), "support": ("support",), "desk": ("desk",), "demo": ("demo",)}


def message_modules() -> dict[str, bytes]:
    """`locales/<lang>/<module>.js`: part of the shared catalogue (locales/*.json) as a tiny ES module.

    One module per language and surface, so a page downloads only its own language's words; the widget's loader
    fetches its module beside `embed/app.js` (in parallel), which adds no round trip to the widget's first load."""
    modules = {}
    for language in LANGUAGES:
        for module, surfaces in BROWSER_MODULES.items():
            table = {k: v for surface in surfaces for k, v in surface_messages(language, surface).items()}
            text = json.dumps(table, ensure_ascii=False, separators=(",", ":"))
            modules[f"locales/{language}/{module}.js"] = f"export default {text};\n".encode()
    return modules


def load_widget_files() -> AssetTree:
    return AssetTree(files("widget"), rewrite=point_at_version, extra=message_modules())


def page(name: str, cache_control: str = REVALIDATE) -> Callable[[Request], Awaitable[Response]]:
    """The handler of a stable public name (`/support` → pages/support.html)."""

    async def serve(request: Request) -> Response:
        tree: AssetTree = request.app.state.widget_files
        response = tree.response(name, request.headers, cache_control)
        return response if response is not None else error_response("not_found", f"{name} is not built")

    return serve
