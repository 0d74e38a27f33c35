"""The browser surfaces' files (the `widget` package: embed/, desk/, pages/), loaded once per process.

Pages and the loader are rewritten once at load to point at `/widget/<version>/…`, where every module is immutable;
the stable names (`/widget.js`, `/support`, `/dashboard`, …) are revalidated by ETag.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response

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


def load_widget_files() -> AssetTree:
    return AssetTree(files("widget"), rewrite=point_at_version)


def page(name: str, cache_control: str = REVALIDATE) -> Callable[[Request], Awaitable[Response]]:
    """The handler of a stable public name (`/support` → pages/support.html)."""

    async def serve(request: Request) -> Response:
        tree: AssetTree = request.app.state.widget_files
        response = tree.response(name, request.headers, cache_control)
        return response if response is not None else error_response("not_found", f"{name} is not built")

    return serve
