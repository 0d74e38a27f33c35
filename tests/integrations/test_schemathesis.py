"""Schemathesis against the running gateway and the running status page, each driven by its own OpenAPI document.
The gateway with every check (the CLI's `--checks all`): no server error, every status, content type, header and
body as documented, what the document refuses refused and what it allows accepted. A short run by default;
HELPLINE_FUZZ=full runs many more examples."""

from __future__ import annotations

import os
from typing import Any, Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks, not_a_server_error

from support.core.tokens import issue_token
from tests.fuzz.conftest import hostile_status  # noqa: F401 - the fixture, used by name
from tests.intake.conftest import StatusPage
from tests.integrations.conftest import GATEWAY_ENV
from tests.services import SECRET, Gateway

EXAMPLES = 100 if os.environ.get("HELPLINE_FUZZ") == "full" else 4
load_all_checks()
ALL_CHECKS = list(CHECKS.get_all())  # `--checks all`

CUSTOMER = issue_token(SECRET, "fuzz-customer", "Fuzz Customer", "premium", "customer", 3600)
AGENT = issue_token(SECRET, "fuzz-agent", "Fuzz Agent", "free", "agent", 3600)
ADMIN = issue_token(SECRET, "fuzz-admin", "Fuzz Admin", "free", "admin", 3600)


@pytest.fixture(scope="module")
def running(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway (SQLite, then PostgreSQL) with everything it talks to: a status page (incident routes) and a
    folder for attachments."""
    url = database_url
    status = StatusPage(tmp_path_factory.mktemp("status")).start()
    node = Gateway(
        url,
        HELPLINE_ATTACHMENTS_DIR=str(tmp_path_factory.mktemp("files")),
        HELPLINE_STATUS_URL=status.url,
        **GATEWAY_ENV,
    ).start()
    yield node
    node.stop()
    status.stop()


def token_for(method: str, path: str) -> str:
    """A valid bearer token of the role that may make the call, so requests reach the handlers' logic."""
    if path.startswith("/api/admin"):
        return ADMIN
    if (
        method == "PATCH"
        and path.startswith("/api/tickets")
        or path.startswith(("/api/canned", "/api/agents", "/api/reports", "/api/signals"))
        or path.startswith(("/api/tags", "/api/views", "/api/macros", "/api/search", "/api/tickets/bulk"))
        or path.endswith("/tags")
    ):
        return AGENT
    return CUSTOMER


def test_every_check_passes_on_every_operation(running: Gateway) -> None:
    assert_checks_pass(running.url, at_least=20, checks=ALL_CHECKS)


def test_no_request_the_status_document_allows_gets_a_server_error(hostile_status: Gateway) -> None:  # noqa: F811
    """The status page's own document (statuspage/openapi.py), every call with an admin token."""
    assert_checks_pass(hostile_status.url, at_least=15, checks=[not_a_server_error], token=ADMIN)


def assert_checks_pass(base_url: str, at_least: int, checks: list[Any], token: str | None = None) -> None:
    schema = schemathesis.openapi.from_url(f"{base_url}/api/openapi.json")
    # The harness signs every call itself (token_for), so schemathesis does not generate the Authorization header;
    # the API ignores query parameters it does not know, as it ignores unknown body fields, so none are invented.
    schema.config.generation.update(with_security_parameters=False, allow_extra_parameters=False)
    # A body over the size limit is refused with 413 before its fields are read (support/web/http.py read_body).
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= at_least
    failures: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _exercise(operation, mode, base_url, checks, token)
            except Unsatisfiable:
                pass  # nothing to make invalid: the operation takes no parameters or body
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # collect every operation's first failure (a group), then report them all
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)


def _exercise(operation: Any, mode: GenerationMode, base_url: str, checks: list[Any], token: str | None = None) -> None:
    """`token`: the one for every call; None: a token of the role each call needs (token_for)."""
    token = token or token_for(operation.method.upper(), operation.path)

    @given(operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case: Any) -> None:
        case.call_and_validate(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, checks=checks, timeout=10
        )

    run()
