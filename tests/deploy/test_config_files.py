"""The container and compose files (issue 16), checked without Docker: compose.yaml's structure (services, their
order of start, every command a real `helpline` subcommand), deploy/haproxy.cfg by `haproxy -c`, the Dockerfile's
stages and user."""

from __future__ import annotations

import re
from typing import Any

import yaml

from helpline.cli import COMMANDS, parser
from tests.deploy.topology import HAProxy
from tests.services import ROOT, Gateway

COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def subcommands() -> set[str]:
    choices = next(a for a in parser()._actions if a.dest == "command").choices  # type: ignore[union-attr]
    assert choices is not None
    return set(choices)


def test_compose_runs_two_gateways_behind_haproxy_with_worker_statuspage_redis_postgres_and_release() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "release", "gateway1", "gateway2", "worker", "statuspage", "haproxy"}
    helpline = {name for name, s in services.items() if s.get("image", "").startswith("helpline")}
    assert helpline == {"release", "gateway1", "gateway2", "worker", "statuspage"}
    assert services["release"]["command"] == ["migrate"] and services["release"]["restart"] == "no"
    assert services["gateway1"]["command"] == services["gateway2"]["command"] == ["gateway"]
    assert services["worker"]["command"] == ["worker"]
    assert services["statuspage"]["command"] == ["statuspage"]


def test_every_compose_command_is_a_real_helpline_subcommand() -> None:
    known = subcommands()
    assert known == set(COMMANDS)
    for name, service in compose()["services"].items():
        if service.get("image", "").startswith("helpline"):
            command = service["command"]
            assert command[0] in known, (name, command)
            parser().parse_args(command)  # exits (SystemExit) on anything argparse would refuse


def test_gateways_and_worker_start_after_the_release_succeeded_and_their_backends_are_healthy() -> None:
    services = compose()["services"]
    for name in ("gateway1", "gateway2", "worker"):
        depends = services[name]["depends_on"]
        assert depends["release"] == {"condition": "service_completed_successfully"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name
        assert depends["postgres"] == {"condition": "service_healthy"}, name
    assert services["release"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert "healthcheck" in services["postgres"] and "healthcheck" in services["redis"]


def test_gateways_get_time_to_drain_and_trust_only_the_balancer_in_front() -> None:
    services = compose()["services"]
    for name in ("gateway1", "gateway2"):
        env = services[name]["environment"]
        grace = int(re.fullmatch(r"(\d+)s", services[name]["stop_grace_period"]).group(1))  # type: ignore[union-attr]
        assert grace > float(env["HELPLINE_DRAIN_S"]) + 5  # the window, the frames in hand, then SIGKILL
        assert env["HELPLINE_REDIS_URL"].startswith("redis://redis:")
        assert env["HELPLINE_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert "ports" not in services[name]  # reached only through HAProxy
    env = services["haproxy"]["environment"]
    assert env["HELPLINE_GATEWAY1"] == "gateway1:8000" and env["HELPLINE_GATEWAY2"] == "gateway2:8000"
    assert any(v.startswith("./deploy/haproxy.cfg:") for v in services["haproxy"]["volumes"])
    status_env = services["statuspage"]["environment"]
    assert "HELPLINE_DATABASE_URL" not in status_env  # its own store, not the gateways' database
    assert status_env["HELPLINE_STATUS_PROBE_URLS"].startswith("http://haproxy:")


def test_haproxy_config_is_valid_with_websockets_health_checks_and_no_stickiness() -> None:
    lb = HAProxy([Gateway("sqlite+aiosqlite://"), Gateway("sqlite+aiosqlite://")])  # addresses only: none started
    result = lb.check()
    assert result.returncode == 0, result.stdout + result.stderr
    text = "\n".join(line.split("#", 1)[0].strip() for line in HAPROXY_CFG.read_text().splitlines())
    assert "mode http" in text  # HTTP mode passes WebSocket upgrades through
    assert "timeout tunnel" in text  # an upgraded connection lives longer than a request
    assert "option httpchk GET /readyz" in text and "http-check expect status 200" in text
    assert "option forwardfor" in text
    assert not re.search(r"^\s*(cookie|stick|stick-table|balance source|hash-type)\b", text, re.M)


def test_dockerfile_builds_the_wheel_and_runs_it_as_a_non_root_user() -> None:
    text = DOCKERFILE.read_text()
    stages = re.findall(r"^FROM\s+(\S+)\s+AS\s+(\w+)", text, re.M)
    assert stages == [("python:3.11-slim", "builder"), ("python:3.11-slim", "runtime")]
    builder, runtime = text.split("AS runtime", 1)
    assert "python -m build --wheel" in builder
    assert "COPY --from=builder /wheels" in runtime and "pip install" in runtime
    user = re.findall(r"^USER\s+(\S+)", runtime, re.M)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r'^ENTRYPOINT \["helpline"\]', runtime, re.M)
    assert re.search(r'^CMD \["gateway"\]', runtime, re.M)
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", runtime, re.M)
