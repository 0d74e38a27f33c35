"""The browser surfaces' files (the `widget` package: embed/, desk/, pages/), loaded once per process.

Pages and the loader are rewritten once at load to point at `/widget/<version>/…`, where every module is immutable;
the stable names (`/widget.js`, `/support`, `/dashboard`, …) are revalidated by ETag. Every module is minified
once at load (rjsmin: comments and blanks out; names, strings and template literals as written), which takes a
third off the widget's compressed first load without a build step: the tree in the package stays the source.
"""

from __future__ import annotations

import functools
import json
import posixpath
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from importlib.resources import files

import rjsmin
from starlette.requests import Request
from starlette.responses import Response

from support.core.i18n import LANGUAGES, surface_messages
from support.web.http import error_response
from support.web.static import REVALIDATE, AssetTree, walk

LOADER = "embed/widget.js"
LOADER_BUILD_MARKER = b'var build = "";'
LOADER_PRELOAD_MARKER = b"var preload = [];"
LOADER_LANGUAGES_MARKER = b'var languages = ["en"];'
# The widget's first view: the module the loader imports and, followed here, everything it imports statically.
FIRST_VIEW = "embed/app.js"
STATIC_IMPORT = re.compile(rb'^import\s[^;]*?\sfrom\s+"(\.{1,2}/[^"]+)";', re.MULTILINE)
# `/widget.js` is pasted into hosts' pages: a short lifetime spares them a request per page view, the ETag makes
# the check after it a 304.
LOADER_CACHE = "public, max-age=300"


def static_imports(modules: Mapping[str, bytes], entry: str) -> list[str]:
    """`entry` and every module it imports statically (`import … from "./x.js"`), transitively, in tree paths.

    The loader hints these with `modulepreload`; what app.js imports with `import()` is left out, on purpose."""
    found: list[str] = []
    todo = [entry]
    while todo:
        name = todo.pop(0)
        if name in found:
            continue
        if name not in modules:
            raise ValueError(f"{entry} imports {name}, which is not in the widget package")
        found.append(name)
        for target in STATIC_IMPORT.findall(modules[name]):
            todo.append(posixpath.normpath(posixpath.join(posixpath.dirname(name), target.decode())))
    return found


def prepare(name: str, body: bytes, version: str, preload: Sequence[str] = ()) -> bytes:
    """A file as served: pointed at this build's version, and minified when it is a module."""
    body = point_at_version(name, body, version, preload)
    return rjsmin.jsmin(body) if name.endswith(".js") else body


def point_at_version(name: str, body: bytes, version: str, preload: Sequence[str] = ()) -> bytes:
    if name.endswith(".html"):
        return body.replace(b'"/widget/', f'"/widget/{version}/'.encode())
    if name == LOADER:
        for marker in (LOADER_BUILD_MARKER, LOADER_PRELOAD_MARKER, LOADER_LANGUAGES_MARKER):
            if marker not in body:
                raise ValueError(f"{LOADER} lost its marker {marker!r}")
        return (
            body.replace(LOADER_BUILD_MARKER, f'var build = "{version}";'.encode())
            .replace(LOADER_PRELOAD_MARKER, f"var preload = {json.dumps(list(preload))};".encode())
            .replace(LOADER_LANGUAGES_MARKER, f"var languages = {json.dumps(list(LANGUAGES))};".encode())
        )
    return body


# The browser's message modules and the catalogue surfaces each carries: the widget's words come with the error
# messages (every surface shows those), the Support tab and the desk add their own on top of the widget's.
BROWSER_MODULES = {"widget": ("widget", "errors"), "support": ("support",), "desk": ("desk",), "demo": ("demo",)}
# The widget's first load shows only the launcher and its unread badge: `locales/<lang>/launcher.js` carries their
# words (a tenth of the widget's), and the panel brings the whole widget module when it loads (embed/app.js).
LAUNCHER_KEYS = ("widget.launcher", "widget.launcherLabel", "widget.unread")


def message_modules() -> dict[str, bytes]:
    """`locales/<lang>/<module>.js`: part of the shared catalogue (locales/*.json) as a tiny ES module.

    One module per language and surface, so a page downloads only its own language's words; the widget's loader
    fetches the launcher's (`launcher.js`) beside `embed/app.js` (in parallel), which adds no round trip to the
    widget's first load, and its panel the whole `widget.js` when it loads."""
    modules = {}
    for language in LANGUAGES:
        for module, surfaces in BROWSER_MODULES.items():
            table = {k: v for surface in surfaces for k, v in surface_messages(language, surface).items()}
            text = json.dumps(table, ensure_ascii=False, separators=(",", ":"))
            modules[f"locales/{language}/{module}.js"] = f"export default {text};\n".encode()
        launcher = {k: v for k, v in surface_messages(language, "widget").items() if k in LAUNCHER_KEYS}
        text = json.dumps(launcher, ensure_ascii=False, separators=(",", ":"))
        modules[f"locales/{language}/launcher.js"] = f"export default {text};\n".encode()
    return modules


def load_widget_files() -> AssetTree:
    root = files("widget")
    preload = static_imports(dict(walk(root)), FIRST_VIEW)
    return AssetTree(root, rewrite=functools.partial(prepare, preload=preload), extra=message_modules())


def page(name: str, cache_control: str = REVALIDATE) -> Callable[[Request], Awaitable[Response]]:
    """The handler of a stable public name (`/support` → pages/support.html)."""

    async def serve(request: Request) -> Response:
        tree: AssetTree = request.app.state.widget_files
        response = tree.response(name, request.headers, cache_control)
        return response if response is not None else error_response("not_found", f"{name} is not built")

    return serve
