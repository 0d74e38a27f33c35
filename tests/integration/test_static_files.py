"""The browser files as a browser gets them from a real gateway: gzip when accepted, a 304 on a matching ETag,
a short lifetime for the embed loader, revalidation for pages, immutable modules under the build's version."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator

import brotli
import httpx
import pytest

from support.web.static import IMMUTABLE
from tests.services import Gateway, migrated_database

GZIP = {"Accept-Encoding": "gzip"}
PLAIN = {"Accept-Encoding": "identity"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    for url in migrated_database("sqlite", tmp_path_factory):  # static files do not depend on the database
        node = Gateway(url).start()
        yield node
        node.stop()


def raw_get(url: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as sent (httpx would decode gzip for us)."""
    with httpx.stream("GET", url, headers=headers, timeout=10) as response:
        return response, b"".join(response.iter_raw())


def versioned_script(html: str) -> str:
    match = re.search(r'src="(/widget/v[0-9a-f]{12}/[^"]+\.js)"', html)
    assert match, html
    return match.group(1)


def test_widget_js_is_gzipped_when_accepted_and_plain_otherwise(gateway: Gateway) -> None:
    zipped, zipped_body = raw_get(gateway.url + "/widget.js", GZIP)
    plain, plain_body = raw_get(gateway.url + "/widget.js", PLAIN)
    assert zipped.status_code == plain.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert gzip.decompress(zipped_body) == plain_body
    assert len(zipped_body) < len(plain_body)
    assert b"window.Helpline" in plain_body
    assert "Accept-Encoding" in zipped.headers["vary"] and "Accept-Encoding" in plain.headers["vary"]
    assert zipped.headers["content-type"].startswith("text/javascript")


def test_widget_modules_are_brotli_compressed_when_accepted(gateway: Gateway) -> None:
    loader = httpx.get(gateway.url + "/widget.js", timeout=10).text
    version = re.search(r'var build ?= ?"(v[0-9a-f]{12})";', loader)
    assert version, loader[:300]
    for path in ("/widget.js", f"/widget/{version.group(1)}/embed/app.js"):
        packed, packed_body = raw_get(gateway.url + path, {"Accept-Encoding": "gzip, deflate, br, zstd"})
        zipped, zipped_body = raw_get(gateway.url + path, GZIP)
        plain, plain_body = raw_get(gateway.url + path, PLAIN)
        assert packed.headers["content-encoding"] == "br", path
        assert brotli.decompress(packed_body) == plain_body == gzip.decompress(zipped_body), path
        assert len(packed_body) < len(zipped_body), path
        assert packed.headers["etag"] not in (zipped.headers["etag"], plain.headers["etag"])
        again = httpx.get(
            gateway.url + path, headers={"Accept-Encoding": "br", "If-None-Match": packed.headers["etag"]}
        )
        assert again.status_code == 304, path


def test_the_loader_hints_every_module_of_the_widgets_first_view(gateway: Gateway) -> None:
    loader = httpx.get(gateway.url + "/widget.js", timeout=10).text
    hinted = re.search(r"var preload ?= ?(\[[^\]]*\]);", loader)
    assert hinted, loader[:500]
    preload = set(json.loads(hinted.group(1)))
    # app.js and what it imports statically, not what it imports on demand (the form, the thread, attachments...).
    assert preload == {"embed/app.js", "client.js", "dom.js", "i18n.js", "embed/widget-style.js"}
    languages = re.search(r"var languages ?= ?(\[[^\]]*\]);", loader)
    assert languages and set(json.loads(languages.group(1))) == {"en", "vi"}
    version = re.search(r'var build ?= ?"(v[0-9a-f]{12})";', loader)
    assert version
    for name in preload:  # every hint is a module this build serves, minified (no comment left)
        module = httpx.get(f"{gateway.url}/widget/{version.group(1)}/{name}", timeout=10)
        assert module.status_code == 200 and module.headers["cache-control"] == IMMUTABLE, name
        assert "/**" not in module.text, name


def test_a_matching_etag_gets_304_without_a_body(gateway: Gateway) -> None:
    for path in ("/widget.js", "/support", "/dashboard"):
        first = httpx.get(gateway.url + path, headers=GZIP, timeout=10)
        etag = first.headers["etag"]
        again, body = raw_get(gateway.url + path, {**GZIP, "If-None-Match": etag})
        assert again.status_code == 304 and body == b"", path
        assert again.headers["etag"] == etag
        # The plain and the gzip form are the same content: either tag revalidates either.
        plain_again = httpx.get(gateway.url + path, headers={**PLAIN, "If-None-Match": etag}, timeout=10)
        assert plain_again.status_code == 304, path
        changed = httpx.get(gateway.url + path, headers={**GZIP, "If-None-Match": '"something-else"'}, timeout=10)
        assert changed.status_code == 200 and changed.content == first.content


def test_stable_names_are_revalidated_and_the_loader_lives_five_minutes(gateway: Gateway) -> None:
    assert httpx.get(gateway.url + "/widget.js", timeout=10).headers["cache-control"] == "public, max-age=300"
    for path in ("/", "/support", "/dashboard", "/reports", "/widget/client.js"):
        assert httpx.get(gateway.url + path, timeout=10).headers["cache-control"] == "no-cache", path


def test_pages_load_their_modules_from_immutable_versioned_urls(gateway: Gateway) -> None:
    page = httpx.get(gateway.url + "/support", timeout=10)
    script = versioned_script(page.text)
    version = script.split("/")[2]
    module, body = raw_get(gateway.url + script, GZIP)
    assert module.status_code == 200 and module.headers["cache-control"] == IMMUTABLE
    assert b"HelplineClient" in gzip.decompress(body)
    # The loader is pointed at the same build, so the widget's modules are immutable too.
    loader = httpx.get(gateway.url + "/widget.js", timeout=10).text
    assert f'var build="{version}";' in loader  # minified
    app = httpx.get(f"{gateway.url}/widget/{version}/embed/app.js", timeout=10)
    assert app.status_code == 200 and app.headers["cache-control"] == IMMUTABLE


def test_a_version_this_node_does_not_have_is_served_but_never_cached_for_long(gateway: Gateway) -> None:
    other = httpx.get(gateway.url + "/widget/v000000000000/embed/app.js", timeout=10)
    assert other.status_code == 200 and other.headers["cache-control"] == "no-cache"
    assert httpx.get(gateway.url + "/widget/v000000000000/nothing.js", timeout=10).status_code == 404
    assert httpx.get(gateway.url + "/widget/__init__.py", timeout=10).status_code == 404
