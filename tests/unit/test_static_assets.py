"""The in-memory asset tree: what is compressed, how ETags and the version follow the bytes, which files are left out."""

from __future__ import annotations

import gzip
from pathlib import Path

import brotli

from starlette.datastructures import Headers

from support.web.static import IMMUTABLE, AssetTree, accepts_gzip


def tree_of(root: Path, files: dict[str, str]) -> AssetTree:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return AssetTree(root)


def test_gzip_is_accepted_as_the_browser_weights_it() -> None:
    assert accepts_gzip("gzip, deflate, br")
    assert accepts_gzip("br;q=1.0, gzip;q=0.5")
    assert accepts_gzip("*")
    assert not accepts_gzip("")
    assert not accepts_gzip("identity")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("*, gzip;q=0")
    assert accepts_gzip("*;q=0, gzip")


def test_text_is_compressed_once_and_the_same_on_every_load(tmp_path: Path) -> None:
    files = {"embed/app.js": "export const x = 1;\n" * 200, "tiny.css": "a{}", "__init__.py": "", "README.md": "x"}
    first, second = tree_of(tmp_path / "a", files), tree_of(tmp_path / "b", files)
    assert set(first.assets) == {"embed/app.js", "tiny.css"}  # Python and docs are not served
    app = first.assets["embed/app.js"]
    assert app.gzipped is not None and gzip.decompress(app.gzipped) == app.body
    assert first.assets["tiny.css"].gzipped is None  # gzip would be larger
    # Two nodes of one build: the same version, the same ETags, the same compressed bytes.
    assert first.version == second.version
    assert app == second.assets["embed/app.js"]


def test_the_version_and_an_etag_change_when_a_file_does(tmp_path: Path) -> None:
    before = tree_of(tmp_path, {"client.js": "let a = 1;", "dom.js": "let b = 2;"})
    after = tree_of(tmp_path, {"client.js": "let a = 2;"})
    assert before.version != after.version
    assert before.assets["client.js"].etag != after.assets["client.js"].etag
    assert before.assets["dom.js"].etag == after.assets["dom.js"].etag


def test_a_response_is_304_for_either_tag_and_keeps_its_cache_lifetime(tmp_path: Path) -> None:
    tree = tree_of(tmp_path, {"client.js": "export function f() { return 1; }\n" * 50})
    asset = tree.assets["client.js"]
    for tag in (asset.etag, asset.gzip_etag, f"W/{asset.etag}", f'"other", {asset.etag}'):
        response = tree.response("client.js", Headers({"if-none-match": tag}), IMMUTABLE)
        assert response is not None and response.status_code == 304 and response.body == b""
        assert response.headers["cache-control"] == IMMUTABLE
    assert tree.response("missing.js", Headers({})) is None


def test_brotli_is_sent_when_accepted_and_gzip_otherwise(tmp_path: Path) -> None:
    tree = tree_of(tmp_path, {"client.js": "export function f() { return 1; }\n" * 50})
    asset = tree.assets["client.js"]
    assert asset.brotlied is not None and brotli.decompress(asset.brotlied) == asset.body
    chosen = {
        header: tree.response("client.js", Headers({"accept-encoding": header}))
        for header in ("gzip, deflate, br, zstd", "gzip", "br;q=0, gzip", "identity")
    }
    encodings = {h: (r.headers.get("content-encoding") if r else None) for h, r in chosen.items()}
    assert encodings == {"gzip, deflate, br, zstd": "br", "gzip": "gzip", "br;q=0, gzip": "gzip", "identity": None}
    assert chosen["gzip, deflate, br, zstd"] and chosen["gzip, deflate, br, zstd"].headers["etag"] == asset.brotli_etag
    again = tree.response("client.js", Headers({"if-none-match": asset.brotli_etag}))
    assert again is not None and again.status_code == 304
