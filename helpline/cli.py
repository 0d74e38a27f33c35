"""The `helpline` command: up, gateway, worker, statuspage, migrate, token (contract §1)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import secrets
import sys
from typing import Any, cast

import uvicorn

from realtime.drain import CleanExitServer
from realtime.server import HelplineWebSocketProtocol
from support.core.settings import Settings

log = logging.getLogger("helpline")


def uvicorn_config(app: Any, host: str, port: int, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app, host=host, port=port, ws=HelplineWebSocketProtocol, ws_max_size=settings.max_frame_bytes,
        ws_per_message_deflate=False, lifespan="on", log_level="warning", access_log=False,
        timeout_graceful_shutdown=5,
        # The client address (per-address limits, logs) is the forwarded one only behind a trusted proxy.
        proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips,
    )


def _required(value: object, message: str) -> bool:
    if not value:
        print(message, file=sys.stderr)
    return bool(value)


def _has_keys(settings: Settings) -> bool:
    """Some key to check identity tokens with: the shared secret, or the identity provider's public keys."""
    return bool(settings.secret or settings.jwt_public_key or settings.jwks_url)


def migrate(settings: Settings) -> None:
    from persistence.migrate import upgrade

    upgrade(settings.database_url)


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    migrate(settings)
    print(f"database schema is up to date ({settings.database_url.split('@')[-1]})")
    return 0


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    from support.core.tokens import issue_token

    if not _required(settings.secret, "HELPLINE_SECRET is not set"):
        return 2
    # The configured iss and aud go in, so a development token passes a gateway that requires them.
    print(issue_token(settings.secret, args.sub, args.name, args.plan, args.role, args.ttl,
                      issuer=settings.jwt_issuer, audience=next(iter(settings.jwt_audience), None)))
    return 0


def cmd_gateway(settings: Settings, _args: argparse.Namespace) -> int:
    from helpline.app import create_app
    from realtime.drain import drain_gateway

    if not _required(_has_keys(settings), "HELPLINE_SECRET (or HELPLINE_JWT_PUBLIC_KEY / HELPLINE_JWKS_URL) is "
                                          "required for a gateway node"):
        return 2
    try:
        app = create_app(settings)
    except ValueError as exc:  # a setting that cannot be used (a key that is no key): say which, do not start
        print(exc, file=sys.stderr)
        return 2

    def mark_draining() -> None:
        app.state.draining = True

    CleanExitServer(uvicorn_config(app, settings.host, settings.port, settings),
                    drain=lambda: drain_gateway(app.state.gateway, mark_draining, settings.drain_s)).run()
    return 0


def cmd_worker(settings: Settings, _args: argparse.Namespace) -> int:
    if not _required(settings.redis_url,
                     "HELPLINE_REDIS_URL is required: the worker drains the Redis persistence stream"):
        return 2
    from persistence.worker import run_worker_process

    run_worker_process(settings)
    return 0


def cmd_statuspage(settings: Settings, _args: argparse.Namespace) -> int:
    from statuspage.app import create_app
    from statuspage.settings import StatusSettings

    status = StatusSettings.from_env()
    if not _required(status.secret or status.jwt_public_key or status.jwks_url,
                     "HELPLINE_SECRET (or HELPLINE_JWT_PUBLIC_KEY / HELPLINE_JWKS_URL) is "
                     "required: admin tokens are checked with it"):
        return 2
    try:
        app = create_app(status)
    except ValueError as exc:  # the components file or an identity setting cannot be used: say which
        print(exc, file=sys.stderr)
        return 2
    CleanExitServer(uvicorn_config(app, status.host, status.status_port, settings)).run()
    return 0


def cmd_up(settings: Settings, _args: argparse.Namespace) -> int:
    from helpline.app import create_app, demo_token_set

    # Demo sign-in only with a secret generated for this run: tokens signed with the operator's secret would be
    # real identities (an admin among them) handed to whoever asks.
    generated = not settings.secret
    if generated:
        settings = dataclasses.replace(settings, secret=secrets.token_urlsafe(32))
        print("HELPLINE_SECRET was not set: generated one for this run:")
        print(f"  HELPLINE_SECRET={settings.secret}")
    base = f"http://{settings.host}:{settings.port}"
    status_url = settings.status_url or f"http://{settings.host}:{settings.status_port}"
    settings = dataclasses.replace(settings, demo=generated, status_url=status_url)
    migrate(settings)
    servers = [uvicorn.Server(uvicorn_config(create_app(settings), settings.host, settings.port, settings))]
    try:
        from statuspage.app import create_app as create_status_app
        from statuspage.settings import StatusSettings

        status = StatusSettings.from_env(secret=settings.secret)  # the secret `up` may have generated
        servers.append(uvicorn.Server(uvicorn_config(
            create_status_app(status), settings.host, settings.status_port, settings)))
    except ImportError as exc:
        print(f"status page not started: {exc}")
    print(f"\nHelpline is up on the embedded default ({settings.database_url.split('@')[-1]}, in-memory bus)\n")
    print(f"  demo platform page  {base}/")
    print(f"  support tab         {base}/support")
    print(f"  agent dashboard     {base}/dashboard")
    print(f"  status page         {status_url}/")
    print(f"  WebSocket           ws://{settings.host}:{settings.port}/ws\n")
    if settings.demo:
        tokens = demo_token_set(settings)
        print("demo sign-in (open a link, or use the token as a Bearer token / in the hello frame):")
        for plan, token in cast(dict[str, str], tokens["customers"]).items():
            print(f"  customer {plan:<9} {base}/?token={token}")
        print(f"  agent              {base}/dashboard?token={tokens['agent']}")
        print(f"  admin token        {tokens['admin']}\n", flush=True)
    else:
        print("no demo sign-in: HELPLINE_SECRET was set, so tokens come from the platform "
              "(or `helpline token`)\n", flush=True)

    async def serve_all() -> None:
        await asyncio.gather(*(server.serve() for server in servers))

    asyncio.run(serve_all())
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="helpline", description="Support inside the product, live.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="everything in one process on the embedded default, with demo pages")
    sub.add_parser("gateway", help="one gateway node (WebSocket + HTTP API)")
    sub.add_parser("worker", help="the persistence worker (needs HELPLINE_REDIS_URL)")
    sub.add_parser("statuspage", help="the status page service")
    sub.add_parser("migrate", help="bring the database schema up to date")
    token = sub.add_parser("token", help="print a signed identity token")
    token.add_argument("--sub", required=True)
    token.add_argument("--name")
    token.add_argument("--plan", default="free", choices=["free", "pro", "pro_plus", "premium"])
    token.add_argument("--role", default="customer", choices=["customer", "agent", "admin"])
    token.add_argument("--ttl", type=int, default=3600)
    return p


COMMANDS = {"up": cmd_up, "gateway": cmd_gateway, "worker": cmd_worker, "statuspage": cmd_statuspage,
            "migrate": cmd_migrate, "token": cmd_token}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return COMMANDS[args.command](Settings.from_env(), args)


if __name__ == "__main__":
    sys.exit(main())
