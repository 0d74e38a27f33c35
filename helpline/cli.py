"""The `helpline` command: up, gateway, worker, statuspage, migrate, token, config (contract §1).

Each command reads the settings it uses and no others; a setting that is wrong, unknown or pointing at a backend
that does not answer ends the command with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import secrets
import sys
from typing import Any, Coroutine, cast

import uvicorn

from helpline import logs
from helpline.collector import Refreezer, collect_young_less_often, freeze_startup_heap, measure_pauses
from helpline.preflight import check_backends
from realtime.drain import CleanExitServer
from realtime.server import HelplineHttpProtocol, HelplineWebSocketProtocol
from statuspage import settings as status_variables
from statuspage.settings import StatusSettings
from support.core import settings as gateway_variables
from support.core.environment import SettingsError, masked, refuse_unknown
from support.core.settings import Settings

log = logging.getLogger("helpline")

# Read by the test suite and the benchmark, never by the product: accepted so their child processes start.
HARNESS_VARIABLES = frozenset(
    {"HELPLINE_CHAOS", "HELPLINE_FUZZ", "HELPLINE_CHROMIUM", "HELPLINE_TEST_PG", "HELPLINE_TEST_REDIS"}
)
KNOWN_VARIABLES = frozenset(
    {v.name for v in gateway_variables.VARIABLES} | {v.name for v in status_variables.VARIABLES} | HARNESS_VARIABLES
)
LOGGING = ("log_format", "log_level")


def uvicorn_config(app: Any, host: str, port: int, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=HelplineHttpProtocol,
        ws=HelplineWebSocketProtocol,
        ws_max_size=settings.max_frame_bytes,
        ws_per_message_deflate=False,
        # A reconnect storm is thousands of handshakes at once (a node died, its clients all come here): a deep accept
        # queue lets them wait their turn, where uvicorn's 2048 left the rest to the client's SYN retransmits (1, 3,
        # 7 s...). The kernel caps it at net.core.somaxconn.
        backlog=4096,
        lifespan="on",
        log_level="warning",
        access_log=False,
        log_config=None,
        server_header=False,  # no banner naming the server (and 17 bytes less on every response)
        timeout_graceful_shutdown=5,
        # The client address (per-address limits, logs) is the forwarded one only behind a trusted proxy.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


def _run(main: Coroutine[Any, Any, None]) -> None:
    """Serve on uvloop where it is installed (it comes with uvicorn[standard]), as the worker does.

    uvicorn picks uvloop only when it creates the loop itself (`uvicorn.run`); these commands run their servers
    with `Server.serve()` inside a loop of their own, which was asyncio's default selector loop: every socket write
    (a frame, a Redis or database command) and every callback cost more, most visibly in a reconnect storm."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main)


def _required(value: object, message: str) -> bool:
    if not value:
        print(message, file=sys.stderr)
    return bool(value)


def _start_logging(settings: Settings, default_level: str = "info") -> None:
    logs.configure(settings.log_format, settings.log_level or default_level)


def _has_keys(settings: Settings) -> bool:
    """Some key to check identity tokens with: the shared secret, or the identity provider's public keys."""
    return bool(settings.secret or settings.jwt_public_key or settings.jwks_url)


def migrate(settings: Settings) -> None:
    from persistence.migrate import upgrade

    upgrade(settings.database_url)


def cmd_migrate(_args: argparse.Namespace) -> int:
    settings = Settings.from_env(only=("database_url", "backend_wait_s", *LOGGING))
    _start_logging(settings, "warning")
    check_backends(database_url=settings.database_url, wait_s=settings.backend_wait_s)
    migrate(settings)
    print(f"database schema is up to date ({settings.database_url.split('@')[-1]})")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from support.core.tokens import issue_token

    settings = Settings.from_env(only=("secret", "jwt_issuer", "jwt_audience"))
    if not _required(settings.secret, "HELPLINE_SECRET is not set"):
        return 2
    # The configured iss and aud go in, so a development token passes a gateway that requires them.
    print(
        issue_token(
            settings.secret,
            args.sub,
            args.name,
            args.plan,
            args.role,
            args.ttl,
            issuer=settings.jwt_issuer,
            audience=next(iter(settings.jwt_audience), None),
            locale=args.locale,
        )
    )
    return 0


def cmd_config(_args: argparse.Namespace) -> int:
    """Every setting as the processes would see it, secrets masked: what an operator checks first."""
    shown: dict[str, str] = {}
    for variables, current in (
        (gateway_variables.VARIABLES, Settings.from_env()),
        (status_variables.VARIABLES, StatusSettings.from_env()),
    ):
        for var in variables:
            if var.name in shown:
                continue  # HELPLINE_SECRET, HOST, the key settings: one variable, both settings objects
            value: Any = getattr(current, var.field, None)
            if var.key is not None:
                value = value[var.key]
            shown[var.name] = masked(var, value)
    width = max(len(name) for name in shown)
    for name, value in shown.items():
        print(f"{name:<{width}}  {value or '(unset)'}")
    return 0


def _metrics_server(settings: Settings) -> list[CleanExitServer]:
    if not settings.metrics_port:
        return []
    from helpline.app import create_metrics_app

    config = uvicorn.Config(
        create_metrics_app(settings.metrics_token),
        host=settings.host,
        port=settings.metrics_port,
        lifespan="off",
        log_level="warning",
        access_log=False,
        log_config=None,
    )
    return [CleanExitServer(config)]


async def _serve(servers: list[CleanExitServer], when_up: Any = None, refreezer: Refreezer | None = None) -> None:
    """Run the servers of one process together; `when_up` runs once every one of them listens (so its output comes
    last), and then `refreezer`, for good. The signal reaches whichever server installed its handler last: its stop
    is passed on to the others."""
    measure_pauses()
    refreezing: asyncio.Task[None] | None = None
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    asyncio.create_task(_stop_together(servers), name="stop-together")
    while not all(server.started for server in servers):
        done = [task for task in tasks if task.done()]
        if done:
            break
        await asyncio.sleep(0.05)
    else:
        # Once every server listens, what start-up made is the process's for good: out of every later collection.
        freeze_startup_heap()
        if when_up is not None:
            when_up()
        if refreezer is not None:
            refreezing = asyncio.create_task(refreezer.run(), name="refreeze")
    try:
        await asyncio.gather(*tasks)
    finally:
        if refreezing is not None:
            refreezing.cancel()


async def _stop_together(servers: list[CleanExitServer]) -> None:
    while True:
        for flag in ("should_exit", "force_exit"):
            if any(getattr(server, flag) for server in servers):
                for server in servers:
                    setattr(server, flag, True)
        await asyncio.sleep(0.1)


def cmd_gateway(_args: argparse.Namespace) -> int:
    from helpline.app import create_app

    settings = Settings.from_env()
    _start_logging(settings)
    if not _required(
        _has_keys(settings),
        "HELPLINE_SECRET (or HELPLINE_JWT_PUBLIC_KEY / HELPLINE_JWKS_URL) is required for a gateway node",
    ):
        return 2
    check_backends(database_url=settings.database_url, redis_url=settings.redis_url, wait_s=settings.backend_wait_s)
    if not settings.redis_url:
        log.warning(
            "HELPLINE_REDIS_URL is not set: this gateway runs the in-memory bus and serves ONE node only; "
            "nodes behind a load balancer need the same Redis, and messages need `helpline worker`"
        )
    try:
        app = create_app(settings)
    except ValueError as exc:  # a setting that cannot be used (a key that is no key): say which, do not start
        raise SettingsError(str(exc)) from None
    from realtime.drain import drain_gateway

    def mark_draining() -> None:
        app.state.draining = True

    gateway = CleanExitServer(
        uvicorn_config(app, settings.host, settings.port, settings),
        drain=lambda: drain_gateway(app.state.gateway, mark_draining, settings.drain_s),
    )
    collect_young_less_often()  # the gateway and the worker: the status page and `up` keep the defaults
    refreezer = Refreezer(settings.gc_refreeze_s, settings.gc_full_collection_s) if settings.gc_refreeze_s else None
    _run(_serve([gateway, *_metrics_server(settings)], refreezer=refreezer))
    return 0


def cmd_worker(_args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    _start_logging(settings)
    if not _required(
        settings.redis_url, "HELPLINE_REDIS_URL is required: the worker drains the Redis persistence stream"
    ):
        return 2
    check_backends(database_url=settings.database_url, redis_url=settings.redis_url, wait_s=settings.backend_wait_s)
    from persistence.worker_process import run_worker_process
    from support.notifications.service import mail_settings

    mail_settings(settings)  # reply e-mails on: their settings complete, or one line naming what is missing

    # A batch is tens of thousands of fresh containers (the stream reply, the rows) and no reference cycles: with
    # the default thresholds the collector ran every 700 of them, half the cost of reading the stream.
    freeze_startup_heap()
    collect_young_less_often()
    run_worker_process(settings)
    return 0


def cmd_statuspage(_args: argparse.Namespace) -> int:
    from helpline.access import AccessLog
    from statuspage.app import create_app

    settings = Settings.from_env(only=(*LOGGING, "metrics_port", "metrics_token", "backend_wait_s"))
    _start_logging(settings)
    status = StatusSettings.from_env()
    if not _required(
        status.secret or status.jwt_public_key or status.jwks_url,
        "HELPLINE_SECRET (or HELPLINE_JWT_PUBLIC_KEY / HELPLINE_JWKS_URL) is "
        "required: admin tokens are checked with it",
    ):
        return 2
    check_backends(status_database_url=status.status_database_url, wait_s=settings.backend_wait_s)
    try:
        app = create_app(status)
    except ValueError as exc:  # the components file or an identity setting cannot be used: say which
        raise SettingsError(str(exc)) from None
    served = AccessLog(app, "statuspage", app.routes)
    _run(
        _serve(
            [
                CleanExitServer(uvicorn_config(served, status.host, status.status_port, settings)),
                *_metrics_server(dataclasses.replace(settings, host=status.host)),
            ]
        )
    )
    return 0


def cmd_up(_args: argparse.Namespace) -> int:
    from helpline.access import AccessLog
    from helpline.app import create_app
    from statuspage.app import create_app as create_status_app

    settings = Settings.from_env()
    status = StatusSettings.from_env()
    _start_logging(settings, "warning")  # the links stay on screen; HELPLINE_LOG_LEVEL=info shows every request
    # Demo sign-in only with a secret generated for this run: tokens signed with the operator's secret would be
    # real identities (an admin among them) handed to whoever asks.
    generated = not settings.secret
    if generated:
        settings = dataclasses.replace(settings, secret=secrets.token_urlsafe(32))
    status_url = settings.status_url or f"http://{settings.host}:{settings.status_port}"
    settings = dataclasses.replace(settings, demo=generated, status_url=status_url)
    status = dataclasses.replace(status, secret=settings.secret)  # the secret `up` may have generated
    check_backends(
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        status_database_url=status.status_database_url,
        wait_s=settings.backend_wait_s,
    )
    migrate(settings)
    try:
        status_app, app = (
            create_status_app(status),
            create_app(settings, seed_demo=settings.demo and settings.demo_data),
        )
    except ValueError as exc:  # a setting that cannot be used: say which, do not start
        raise SettingsError(str(exc)) from None
    servers = [
        CleanExitServer(uvicorn_config(app, settings.host, settings.port, settings)),
        CleanExitServer(
            uvicorn_config(
                AccessLog(status_app, "statuspage", status_app.routes), settings.host, settings.status_port, settings
            )
        ),
        *_metrics_server(settings),
    ]
    _run(_serve(servers, when_up=lambda: print_links(settings, status_url, generated)))
    return 0


def print_links(settings: Settings, status_url: str, generated_secret: bool) -> None:
    """What `helpline up` prints once everything listens: the last lines on the screen."""
    from helpline.app import demo_token_set

    base = f"http://{settings.host}:{settings.port}"
    if generated_secret:
        print("\nHELPLINE_SECRET was not set: generated one for this run:")
        print(f"  HELPLINE_SECRET={settings.secret}")
    bus = "Redis bus" if settings.redis_url else "in-memory bus"
    print(f"\nHelpline is up ({settings.database_url.split('@')[-1]}, {bus})\n")
    print(f"  demo platform page  {base}/")
    print(f"  support tab         {base}/support")
    print(f"  agent dashboard     {base}/dashboard")
    print(f"  status page         {status_url}/")
    print(f"  incident desk       {status_url}/desk  (admins: sign in with an admin token)")
    print(f"  WebSocket           ws://{settings.host}:{settings.port}/ws\n")
    if settings.demo:
        tokens = demo_token_set(settings)
        print("demo sign-in (open a link, or use the token as a Bearer token / in the hello frame):")
        for plan, token in cast(dict[str, str], tokens["customers"]).items():
            print(f"  customer {plan:<9} {base}/?token={token}")
        print(f"  agent              {base}/dashboard?token={tokens['agent']}")
        print(f"  admin token        {tokens['admin']}  (the incident desk's sign-in)\n", flush=True)
    else:
        print(
            "no demo sign-in: HELPLINE_SECRET was set, so tokens come from the platform (or `helpline token`)\n",
            flush=True,
        )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="helpline", description="Support inside the product, live.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="everything in one process on the embedded default, with demo pages")
    sub.add_parser("gateway", help="one gateway node (WebSocket + HTTP API)")
    sub.add_parser("worker", help="the persistence worker (needs HELPLINE_REDIS_URL)")
    sub.add_parser("statuspage", help="the status page service")
    sub.add_parser("migrate", help="bring the database schema up to date")
    sub.add_parser("config", help="print the effective configuration, secrets masked")
    token = sub.add_parser("token", help="print a signed identity token")
    token.add_argument("--sub", required=True)
    token.add_argument("--name")
    token.add_argument("--plan", default="free", choices=["free", "pro", "pro_plus", "premium"])
    token.add_argument("--role", default="customer", choices=["customer", "agent", "admin"])
    token.add_argument("--ttl", type=int, default=3600)
    token.add_argument("--locale", choices=["en", "vi"], help="the `locale` claim: the viewer's language")
    return p


COMMANDS = {
    "up": cmd_up,
    "gateway": cmd_gateway,
    "worker": cmd_worker,
    "statuspage": cmd_statuspage,
    "migrate": cmd_migrate,
    "token": cmd_token,
    "config": cmd_config,
}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        refuse_unknown(KNOWN_VARIABLES, Settings.environment())
        return COMMANDS[args.command](args)
    except SettingsError as exc:
        print(exc, file=sys.stderr)  # the one line: the variable, what it accepts, what it got
        return 2
    except KeyboardInterrupt:  # Ctrl-C: uvicorn has shut down cleanly and re-raised it; no traceback
        return 130


if __name__ == "__main__":
    sys.exit(main())
