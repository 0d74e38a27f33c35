"""Settings that say what is wrong: the real `helpline` command, its one line on stderr and its exit status."""

from __future__ import annotations

from pathlib import Path

import pytest

from realtime.bus import open_bus
from support.core.environment import SettingsError
from support.core.settings import Settings
from tests.operations.processes import Served, helpline
from tests.services import SECRET, free_port


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_misspelt_database_url_stops_the_process_instead_of_using_the_default(tmp_path: Path) -> None:
    done = helpline(tmp_path, "migrate", HELPLINE_DATABSE_URL="postgresql+asyncpg://db/helpline")
    assert done.returncode == 2
    assert one_line(done.stderr).startswith(
        "HELPLINE_DATABSE_URL: unknown setting (did you mean HELPLINE_DATABASE_URL?)"
    )
    assert not (tmp_path / "helpline.db").exists()


def test_a_boolean_that_is_neither_true_nor_false_is_refused(tmp_path: Path) -> None:
    done = helpline(tmp_path, "gateway", HELPLINE_AUTO_ASSIGN="ture")
    assert done.returncode == 2
    assert one_line(done.stderr) == 'HELPLINE_AUTO_ASSIGN: expected true or false (also 1/0, yes/no), got "ture"'


@pytest.mark.parametrize(
    "word, value", [("true", True), ("YES", True), ("1", True), ("false", False), ("No", False), ("0", False)]
)
def test_booleans_accept_true_false_yes_no_one_zero(word: str, value: bool) -> None:
    assert Settings.from_env({"HELPLINE_AUTO_ASSIGN": word}).auto_assign is value


@pytest.mark.parametrize("word", ["on", "ture", "2", "enabled"])
def test_booleans_accept_nothing_else(word: str) -> None:
    with pytest.raises(SettingsError, match="^HELPLINE_AUTO_ASSIGN: expected true or false"):
        Settings.from_env({"HELPLINE_AUTO_ASSIGN": word})


@pytest.mark.parametrize(
    "variable, raw, accepts",
    [
        ("PORT", "80x", "an integer from 1 to 65535"),
        ("PORT", "70000", "an integer from 1 to 65535"),
        ("HELPLINE_HEARTBEAT_S", "nan", "a number above 0"),
        ("HELPLINE_FRAME_RATE_PER_S", "0", "a number above 0"),
        ("HELPLINE_MAX_CONNECTIONS_PER_USER", "0", "an integer of at least 1"),
        ("HELPLINE_LOG_FORMAT", "xml", "text or json"),
        ("HELPLINE_GC_REFREEZE_S", "-1", "a number of at least 0"),
        ("HELPLINE_GC_FULL_COLLECTION_S", "0", "a number above 0"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_accepts(variable: str, raw: str, accepts: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: raw})
    assert str(caught.value) == f'{variable}: expected {accepts}, got "{raw}"'


def test_a_command_that_does_not_need_a_setting_does_not_read_it(tmp_path: Path) -> None:
    done = helpline(tmp_path, "token", "--sub", "anna", PORT="not-a-port", HELPLINE_HEARTBEAT_S="soon")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(".") == 2  # a JWT
    gateway = helpline(tmp_path, "gateway", PORT="not-a-port")
    assert gateway.returncode == 2
    assert one_line(gateway.stderr) == 'PORT: expected an integer from 1 to 65535, got "not-a-port"'


@pytest.mark.parametrize("url", ["valkey+glide://127.0.0.1:7000", "foo://somewhere", "127.0.0.1:6379"])
def test_a_bus_url_of_no_known_backend_stops_the_gateway(tmp_path: Path, url: str) -> None:
    done = helpline(tmp_path, "gateway", HELPLINE_REDIS_URL=url)
    assert done.returncode == 2
    assert one_line(done.stderr) == (
        f"HELPLINE_REDIS_URL: expected a URL starting with redis://, rediss://, "
        f"unix://, redis+sentinel://, rediss+sentinel://, redis+cluster:// or rediss+cluster://, "
        f'got "{url}"'
    )


def test_open_bus_never_falls_back_to_memory_for_an_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="no bus backend for valkey\\+glide://"):
        open_bus(Settings(redis_url="valkey+glide://127.0.0.1:7000"), None)  # type: ignore[arg-type]


def test_an_unreachable_redis_stops_the_gateway_and_the_worker(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    for command in ("gateway", "worker"):
        done = helpline(tmp_path, command, HELPLINE_REDIS_URL=url, HELPLINE_BACKEND_WAIT_S="0.5")
        assert done.returncode == 2, done.stderr
        assert one_line(done.stderr).startswith("HELPLINE_REDIS_URL: cannot reach redis://127.0.0.1:")


def test_an_unreachable_database_stops_migrate(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere"
    done = helpline(tmp_path, "migrate", HELPLINE_DATABASE_URL=url, HELPLINE_BACKEND_WAIT_S="0")
    assert done.returncode == 2
    assert one_line(done.stderr).startswith("HELPLINE_DATABASE_URL: cannot reach 127.0.0.1:")


def test_config_prints_every_setting_with_secrets_masked(tmp_path: Path) -> None:
    done = helpline(
        tmp_path,
        "config",
        HELPLINE_DATABASE_URL="postgresql+asyncpg://app:hunter2@db:5432/helpline",
        HELPLINE_METRICS_TOKEN="scrape-me-please",
        HELPLINE_AUTO_ASSIGN="yes",
        PORT="9000",
    )
    assert done.returncode == 0, done.stderr
    shown = dict(line.split(None, 1) for line in done.stdout.splitlines())
    assert shown["HELPLINE_DATABASE_URL"] == "postgresql+asyncpg://app:********@db:5432/helpline"
    assert shown["HELPLINE_SECRET"] == shown["HELPLINE_METRICS_TOKEN"] == "********"
    assert shown["HELPLINE_AUTO_ASSIGN"] == "true" and shown["PORT"] == "9000"
    assert shown["HELPLINE_STATUS_DATABASE_URL"].startswith("sqlite+aiosqlite:///")
    for secret in ("hunter2", SECRET, "scrape-me-please"):
        assert secret not in done.stdout + done.stderr


def test_a_gateway_without_redis_says_loudly_that_it_serves_one_node(tmp_path: Path) -> None:
    with Served(tmp_path, "gateway") as gateway:
        pass
    out = gateway.stop()
    warnings = [line for line in out.splitlines() if "WARNING" in line and "HELPLINE_REDIS_URL" in line]
    assert len(warnings) == 1 and "ONE node" in warnings[0], out
