"""Faults under steady load (issue 8): kill -9 of nodes and the worker with restarts, a slow client, a SIGSTOP'd
node, a Redis restart, a PostgreSQL outage. The short form runs in `make test`; `make chaos` runs the full one."""

from __future__ import annotations

import json
import os

from tests.chaos.deployment import Deployment
from tests.chaos.scenario import FULL, SHORT, ChaosRun
from tests.services import ROOT

PLAN = FULL if os.environ.get("HELPLINE_CHAOS") == "full" else SHORT


async def test_acked_messages_survive_every_fault_once_and_in_order(deployment: Deployment) -> None:
    run = ChaosRun(deployment, PLAN)
    out = ROOT / "test-output" / "chaos"
    out.mkdir(parents=True, exist_ok=True)
    try:
        outcome = await run.run()
    finally:  # what every client and the injector did, merged by time: the first thing to read after a failure
        (out / f"trace-{PLAN.form}.txt").write_text(run.traces())
    summary = outcome.summary()
    (out / f"summary-{PLAN.form}.json").write_text(json.dumps(summary, indent=2))
    print(f"\nchaos {PLAN.form}: {json.dumps(summary, indent=2)}")

    found = outcome.findings
    assert found.problems == []
    assert found.acked_lost == 0 and found.unacked_at_end == 0 and found.ack_conflicts == 0
    assert found.history_duplicates == 0 and found.history_gaps == 0 and found.api_database_mismatches == 0
    assert found.duplicates_seen == 0 and found.gaps_seen == 0 and found.phantoms == 0
    assert found.order_violations == 0 and found.leaks == 0 and found.body_mismatches == 0
    assert found.other_errors == []
    assert found.messages_acked == found.messages_sent > 0
    assert outcome.faults["kills"] == PLAN.kills
    assert outcome.faults["sigstops"] == 1 and outcome.faults["redis_restarts"] == 1
    assert outcome.faults["postgres_outages"] == 1
    codes = set(outcome.slow_client["close_codes"])
    assert codes and codes <= {"4409", "1006", "1011"}, outcome.slow_client  # the server cut it off
    assert outcome.slow_client["others_had_the_burst_while_it_was_stuck"]
    assert outcome.presence_unconverged == []
