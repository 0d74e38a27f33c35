"""Browser files served from memory: read, hashed and compressed once at start (brotli and gzip), never per request.

Every file has an ETag (a hash of its bytes), so a stable name (`/widget.js`, the pages) is revalidated with a 304;
the whole tree also has a version, and under `/widget/<version>/…` files are immutable for a year. It serves bytes
it was given (an `importlib.resources` tree); it knows nothing of what the files are for.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable

import brotli

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

# A year, and `immutable` so browsers do not even revalidate on reload: the URL changes when the content does.
IMMUTABLE = "public, max-age=31536000, immutable"
# Stable names are checked on every use (cheap: a 304 without a body when nothing changed).
REVALIDATE = "no-cache"
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
SKIPPED_SUFFIXES = (".py", ".pyc", ".md")
VERSION_SEGMENT = re.compile(r"^v[0-9a-f]{12}$")


@dataclass(frozen=True)
class Asset:
    """One file as it is sent: its bytes, its brotli and gzip forms when smaller, and the ETag of each."""

    body: bytes
    gzipped: bytes | None
    etag: str
    media_type: str
    # Brotli (RFC 7932) at quality 11: its built-in dictionary knows JavaScript and CSS, ~13 % under gzip -9 on the
    # widget's modules; every browser sends `br` (Chromium on http://localhost too).
    brotlied: bytes | None = None

    @property
    def gzip_etag(self) -> str:
        return self.etag[:-1] + '-gz"'  # another representation of the same content: another (related) tag

    @property
    def brotli_etag(self) -> str:
        return self.etag[:-1] + '-br"'


def make_asset(name: str, body: bytes) -> Asset:
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media_type == "application/javascript":
        media_type = "text/javascript"
    if media_type.startswith("text/"):
        media_type += "; charset=utf-8"
    gzipped = brotlied = None
    if media_type.startswith(COMPRESSIBLE):
        packed = gzip.compress(body, compresslevel=9, mtime=0)  # mtime=0: the same bytes on every node
        gzipped = packed if len(packed) < len(body) else None
        packed = brotli.compress(body, quality=11)
        brotlied = packed if len(packed) < min(len(body), len(gzipped or body)) else None
    return Asset(body, gzipped, f'"{hashlib.sha256(body).hexdigest()[:20]}"', media_type, brotlied)


def walk(root: Traversable, prefix: str = "") -> Iterator[tuple[str, bytes]]:
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            if not entry.name.startswith(("_", ".")):
                yield from walk(entry, f"{prefix}{entry.name}/")
        elif entry.is_file() and not entry.name.endswith(SKIPPED_SUFFIXES):
            yield f"{prefix}{entry.name}", entry.read_bytes()


def accepts(coding: str, accept_encoding: str) -> bool:
    """`coding` named with a q above 0, or `*` when it is not named (RFC 9110 12.5.3)."""
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, params = part.partition(";")
        params = params.strip().lower()
        try:
            weights[name.strip().lower()] = float(params[2:]) if params.startswith("q=") else 1.0
        except ValueError:
            weights[name.strip().lower()] = 0.0
    return weights.get(coding, weights.get("*", 0.0)) > 0


def accepts_gzip(accept_encoding: str) -> bool:
    return accepts("gzip", accept_encoding)


def matches(if_none_match: str, asset: Asset) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or bool(tags & {asset.etag, asset.gzip_etag, asset.brotli_etag})


class AssetTree:
    """A folder of browser files held in memory, with one version for the whole tree.

    `rewrite(name, body)` may change a file's bytes once at load (e.g. to point pages at the versioned URLs); `extra`
    adds files made at start from other package data; the version is the hash of the files as shipped (extras
    included), so every node running the same build agrees on it."""

    def __init__(
        self,
        root: Traversable,
        rewrite: Callable[[str, bytes, str], bytes] | None = None,
        extra: Mapping[str, bytes] | None = None,
    ) -> None:
        shipped = dict(walk(root))
        shipped.update(extra or {})  # files made at start (e.g. the message modules), versioned like the rest
        digest = hashlib.sha256()
        for name, body in shipped.items():
            digest.update(name.encode() + b"\0" + hashlib.sha256(body).digest())
        self.version = "v" + digest.hexdigest()[:12]
        self.assets = {
            name: make_asset(name, rewrite(name, body, self.version) if rewrite else body)
            for name, body in shipped.items()
        }

    def response(self, name: str, request_headers: Headers, cache_control: str = REVALIDATE) -> Response | None:
        """The file's response for these request headers (304, gzip or plain), or None when there is no such file."""
        asset = self.assets.get(name)
        if asset is None:
            return None
        accept_encoding = request_headers.get("accept-encoding", "")
        # The smallest form the browser takes: brotli, else gzip, else the bytes as they are.
        encoding, etag, body = "", asset.etag, asset.body
        if asset.brotlied is not None and accepts("br", accept_encoding):
            encoding, etag, body = "br", asset.brotli_etag, asset.brotlied
        elif asset.gzipped is not None and accepts_gzip(accept_encoding):
            encoding, etag, body = "gzip", asset.gzip_etag, asset.gzipped
        headers = {"ETag": etag, "Cache-Control": cache_control}
        if asset.gzipped is not None or asset.brotlied is not None:
            headers["Vary"] = "Accept-Encoding"
        if matches(request_headers.get("if-none-match", ""), asset):
            return Response(status_code=304, headers=headers)
        if encoding:
            headers["Content-Encoding"] = encoding
        return Response(body, headers=headers, media_type=asset.media_type)


class AssetMount:
    """The ASGI app under a mount (`/widget`): `/<version>/<name>` immutable when the version is this tree's,
    `/<name>` revalidated.

    A version this node does not have (a rolling deploy: the page came from a newer or older node) gets this node's
    file with revalidation, never `immutable`: a wrong file must not stick in a browser cache for a year."""

    def __init__(self, tree: AssetTree) -> None:
        self.tree = tree

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.respond(scope)
        await response(scope, receive, send)

    def respond(self, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            return Response("Method Not Allowed", status_code=405, headers={"Allow": "GET, HEAD"})
        path, mount = scope["path"], scope.get("root_path", "")
        if mount and path.startswith(mount):  # Starlette's Mount keeps the full path and puts the prefix here
            path = path[len(mount) :]
        first, _, rest = path.lstrip("/").partition("/")
        cache_control = REVALIDATE
        name = path.lstrip("/")
        if VERSION_SEGMENT.match(first) and rest:
            name = rest
            cache_control = IMMUTABLE if first == self.tree.version else REVALIDATE
        response = self.tree.response(name, Headers(scope=scope), cache_control)
        return response if response is not None else Response("Not Found", status_code=404, media_type="text/plain")
