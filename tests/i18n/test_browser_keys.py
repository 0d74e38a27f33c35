"""The browser code asks only for keys the catalogue has, and each page gets them in the module it loads."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpline.browser_files import BROWSER_MODULES, LAUNCHER_KEYS, message_modules
from support.core.i18n import LANGUAGES, catalogue
from tests.services import ROOT

WIDGET = ROOT / "widget"
# t("widget.send"), tr("desk.median", …), data-i18n="support.platform", data-i18n-label="desk.filters"
KEY_USES = re.compile(r"""(?:\bt|\btr)\(\s*["']([a-z]+\.[\w.]+)["']|data-i18n(?:-label)?="([a-z]+\.[\w.]+)\"""")


def used_keys(path: Path) -> set[str]:
    return {a or b for a, b in KEY_USES.findall(path.read_text(encoding="utf-8"))}


def browser_files() -> list[Path]:
    return sorted(p for p in WIDGET.rglob("*") if p.suffix in (".js", ".html"))


@pytest.mark.parametrize("path", browser_files(), ids=lambda p: str(p.relative_to(WIDGET)))
def test_every_key_the_browser_asks_for_exists(path: Path) -> None:
    missing = sorted(used_keys(path) - set(catalogue("en")))
    assert missing == [], f"{path.relative_to(ROOT)} asks for keys the catalogue lacks: {missing}"


def test_the_pages_load_the_module_of_every_key_they_use() -> None:
    # Which modules each page loads (session.js loadPage / app.js loadWidget), and the files it draws with.
    pages = {
        "widget": (["widget"], ["embed/", "thread.js", "attach.js", "csat.js", "callback.js", "client.js"]),
        "support": (["widget", "support"], ["pages/support.", "session.js"]),
        "desk": (["widget", "desk", "support"], ["desk/"]),
        "demo": (["demo"], ["pages/demo."]),
    }
    for page, (modules, prefixes) in pages.items():
        surfaces = {s for m in modules for s in BROWSER_MODULES[m]}
        for path in browser_files():
            name = str(path.relative_to(WIDGET))
            if name.startswith(tuple(prefixes)):
                outside = sorted(k for k in used_keys(path) if k.split(".")[0] not in surfaces)
                assert outside == [], f"{name} on the {page} page uses keys of modules it does not load: {outside}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_message_module_carries_its_surfaces_of_one_language(language: str) -> None:
    modules = message_modules()
    for module, surfaces in BROWSER_MODULES.items():
        text = modules[f"locales/{language}/{module}.js"].decode()
        assert text.startswith("export default {") and text.endswith("};\n")
        table = json.loads(text.removeprefix("export default ").removesuffix(";\n"))
        expected = {k: v for k, v in catalogue(language).items() if k.split(".")[0] in surfaces}
        assert table == expected


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_launcher_module_carries_the_launchers_words_only(language: str) -> None:
    text = message_modules()[f"locales/{language}/launcher.js"].decode()
    table = json.loads(text.removeprefix("export default ").removesuffix(";\n"))
    assert table == {key: catalogue(language)[key] for key in LAUNCHER_KEYS}


def test_the_launcher_reads_only_the_launchers_words_before_the_panel_loads() -> None:
    # embed/app.js draws the launcher (mount) and its badge (emitUnread) with the launcher module alone; the other
    # words it reads (the connection line) are drawn only once panel.js and the whole widget module are in.
    app = (WIDGET / "embed/app.js").read_text(encoding="utf-8")
    bodies = [app.split(f"\n  {name}() {{\n")[1].split("\n  }\n")[0] for name in ("mount", "emitUnread")]
    read = set(LEGACY_PROPERTY.findall("\n".join(bodies)))
    assert "launcher" in read
    assert read <= {key.split(".")[1] for key in LAUNCHER_KEYS}, read


# Files that read messages as strings() properties (`t.send`, `this.t.typing(name)`), and the modules their page
# loads; the widget's shared parts must make do with the widget's module alone.
LEGACY_READERS = {
    "widget": [
        "embed/app.js",
        "embed/panel.js",
        "embed/ticket-view.js",
        "embed/intake.js",
        "thread.js",
        "attach.js",
        "csat.js",
        "callback.js",
    ],
    "support": ["pages/support.js", "session.js"],
    "desk": ["desk/dashboard.js", "desk/reports.js"],
}
PAGE_SURFACES = {
    "widget": ["widget", "errors"],
    "support": ["widget", "support"],
    "desk": ["widget", "desk", "support"],
}
LEGACY_PROPERTY = re.compile(r"\b(?:this\.)?t\.([A-Za-z]\w*)")
LEGACY_ADAPTERS = {"expected", "minutes"}  # made in widget/i18n.js legacyView


@pytest.mark.parametrize("page", LEGACY_READERS)
def test_every_strings_property_the_browser_reads_exists_on_its_page(page: str) -> None:
    names = {key.split(".")[1] for key in catalogue("en") if key.split(".")[0] in PAGE_SURFACES[page]}
    for name in LEGACY_READERS[page]:
        read = set(LEGACY_PROPERTY.findall((WIDGET / name).read_text(encoding="utf-8")))
        missing = sorted(read - names - LEGACY_ADAPTERS)
        assert missing == [], f"{name} reads t.{missing} that the {page} page's messages lack"
