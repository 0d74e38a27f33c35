"""The wheel is the product: built from a copy of the sources, installed into a fresh venv outside the checkout,
`helpline up` from it in an empty directory serves the widget, the pages, the desk, the status page and the articles.

The venv sees the project's installed dependencies through a path file (not the checkout: the editable install's
finder is not run), so the test takes seconds and needs no index beyond what building the wheel needs.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.services import ROOT, SECRET, free_port

# What a build from a fresh clone would not see either (tests and tools are not part of the product).
NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv",
    "bench",
    "tests",
    "docs",
    "__pycache__",
    "build",
    "dist",
    "*.egg-info",
    "test-output",
    "*.db",
    "*.db-*",
    ".ci",
    "attachments",
)


@dataclass
class Installed:
    wheel: Path
    venv: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


@dataclass
class RunningUp:
    url: str
    status_url: str
    cwd: Path


def build_wheel(workdir: Path) -> Path:
    source, dist = workdir / "source", workdir / "dist"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)],
        check=True,
        cwd=workdir,
        timeout=180,
    )
    (wheel,) = dist.glob("helpline-*.whl")
    return wheel


def fresh_venv(workdir: Path, wheel: Path) -> Path:
    venv = workdir / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    # The dependencies, from the project's venv; a plain path line, so that venv's editable finder never runs.
    (purelib / "project-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        timeout=120,
    )
    return venv


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    workdir = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(workdir)
    return Installed(wheel, fresh_venv(workdir, wheel))


@pytest.fixture(scope="module")
def running(installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningUp]:
    cwd = tmp_path_factory.mktemp("run")
    port, status_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPLINE_", "PYTHON"))}
    env.update(HELPLINE_SECRET=SECRET, HOST="127.0.0.1", PORT=str(port), STATUS_PORT=str(status_port))
    log = (cwd / "up.log").open("wb")
    process = subprocess.Popen(
        [str(installed.venv / "bin" / "helpline"), "up"], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url, status_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{status_port}"
    try:
        wait_until_up(process, [url + "/healthz", status_url + "/healthz"], cwd / "up.log")
        yield RunningUp(url, status_url, cwd)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_until_up(process: subprocess.Popen[bytes], urls: list[str], log: Path) -> None:
    deadline = time.monotonic() + 40
    waiting = list(urls)
    while waiting and time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"helpline up exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(waiting[0], timeout=1).status_code == 200:
                waiting.pop(0)
                continue
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    assert not waiting, f"not up: {waiting}\n{log.read_text()}"


def test_the_wheel_carries_the_browser_code_articles_migrations_and_scripts(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for expected in (
        "widget/embed/widget.js",
        "widget/embed/app.js",
        "widget/client.js",
        "widget/desk/dashboard.html",
        "widget/pages/support.html",
        "widget/pages/demo.html",
        "widget/favicon.svg",
        "statuspage/static/favicon.svg",
        "articles/plans-compared.md",
        "locales/en.json",
        "locales/vi.json",
        "persistence/alembic.ini",
        "persistence/migrations/env.py",
        "persistence/migrations/script.py.mako",
        "statuspage/components.toml",
        "statuspage/migrations/env.py",
        "statuspage/migrations/script.py.mako",
    ):
        assert expected in names, expected
    assert any(re.fullmatch(r"persistence/migrations/versions/0001_\w+\.py", n) for n in names)
    assert any(n.startswith("realtime/bus/redis/") and n.endswith(".lua") for n in names)
    assert not any(n.startswith(("tests/", "bench/")) for n in names)


def test_the_venv_runs_the_installed_code_not_the_checkout(installed: Installed) -> None:
    found = subprocess.run(
        [
            str(installed.python),
            "-c",
            "import helpline, widget, articles, support, persistence, locales;"
            "print(helpline.__file__, widget.__file__, articles.__file__, persistence.__file__, locales.__file__)",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
        timeout=30,
    ).stdout.split()
    assert len(found) == 5
    assert all(path.startswith(str(installed.venv)) for path in found), found


def test_helpline_up_from_the_wheel_serves_every_surface(running: RunningUp) -> None:
    loader = httpx.get(running.url + "/widget.js", timeout=10)
    assert loader.status_code == 200 and "window.Helpline" in loader.text
    version = re.search(r'var build ?= ?"(v[0-9a-f]{12})";', loader.text)
    assert version, loader.text[:500]
    app = httpx.get(f"{running.url}/widget/{version.group(1)}/embed/app.js", timeout=10)
    assert app.status_code == 200 and "helpline-widget" in app.text
    # The shared catalogue, read from the installed `locales` package, served as the widget's Vietnamese module.
    words = httpx.get(f"{running.url}/widget/{version.group(1)}/locales/vi/widget.js", timeout=10)
    assert words.status_code == 200 and '"widget.launcher":"Hỗ trợ"' in words.text

    for path, title, script in (
        ("/support", ">Support · Helpline</title>", "pages/support.js"),
        ("/dashboard", ">Agent dashboard · Helpline</title>", "desk/dashboard.js"),
        ("/", "<title>TradeDesk", "pages/demo.js"),
    ):
        page = httpx.get(running.url + path, timeout=10)
        assert page.status_code == 200 and title in page.text, path
        src = f"/widget/{version.group(1)}/{script}"
        assert f'src="{src}"' in page.text, path
        assert httpx.get(running.url + src, timeout=10).status_code == 200, src

    status = httpx.get(running.status_url + "/", timeout=10)
    assert status.status_code == 200 and "Real-time data feeds" in status.text

    article = httpx.get(running.url + "/help/plans-compared", timeout=10)
    assert article.status_code == 200 and "<h1" in article.text and "plan" in article.text.lower()
    found = httpx.get(running.url + "/api/articles", params={"q": "password reset"}, timeout=10).json()
    assert any(a["slug"] == "sign-in-problems-and-password-reset" for a in found["articles"])
    # The migrations ran from the package: the embedded default database is in the working directory.
    assert (running.cwd / "helpline.db").is_file()
