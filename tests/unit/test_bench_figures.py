"""What the benchmark reports and judges, from given samples: the maximum beside the p99, the tail rule from the
first step after the join burst, the widget's backoff, the storm's seq ledger, the soak's verdicts. No timing here:
the figures themselves come from `make bench`."""

from __future__ import annotations

import json
import math

from bench import report, report_cluster, report_workloads
from bench.recovery import SeqLedger, widget_backoff_s
from bench.stats import soak_summary as _summary
from bench.stats import bisect_rate, latency_summary, soak_rate, tail_goal
from bench.stormgen import StormClient, StormGen


def _step(offered: int, p99: float | None, top: float | None, label: str = "") -> dict[str, object]:
    return {"offered": offered, "p99_ms": p99, "max_ms": top, "label": label}


def test_one_stall_shows_in_the_max_though_the_p99_hides_it() -> None:
    samples = sorted([0.6] * 1999 + [245.0])
    figures = latency_summary(samples)
    assert figures["p99_ms"] == 0.6
    assert figures["max_ms"] == 245.0


def test_a_step_where_nothing_completed_is_infinitely_late() -> None:
    assert math.isinf(latency_summary([])["max_ms"])


def test_the_after_join_stall_breaks_the_tail_rule_whatever_its_rate() -> None:
    after_join = _step(20_000, 140.0, 245.0, "after join")
    steady = [_step(1000, 1.0, 8.0), _step(5000, 2.0, 20.0), _step(40_000, 30.0, 400.0)]
    verdict = tail_goal(after_join, steady, top_rate=10_000)
    assert not verdict["met"]
    assert verdict["first_broken"].startswith("after join")
    assert verdict["steps_judged"] == 3  # the after-join step and the two steps ≤ 8,000/s; 40,000 is above 80 %


def test_a_slow_maximum_breaks_the_tail_rule_though_the_p99_passes() -> None:
    verdict = tail_goal(_step(500, 1.0, 9.0), [_step(1000, 12.0, 101.0)], top_rate=2000)
    assert not verdict["met"] and verdict["worst_max_ms"] == 101.0


def test_the_tail_rule_is_met_when_every_judged_step_is_fast() -> None:
    verdict = tail_goal(_step(500, 3.0, 60.0), [_step(1000, 12.0, 99.0), _step(5000, 80.0, 900.0)], top_rate=5000)
    assert verdict["met"] and verdict["worst_max_ms"] == 99.0


def test_an_incomplete_step_read_back_from_json_breaks_the_tail_rule() -> None:
    after_join = json.loads(json.dumps(_step(500, None, None, "after join")))
    assert not tail_goal(after_join, [], top_rate=1000)["met"]


def test_the_backoff_is_the_widgets() -> None:
    assert widget_backoff_s(0, 0.0) == 0.25 and widget_backoff_s(0, 0.999) < 0.5
    assert widget_backoff_s(3, 0.0) == 2.0
    assert widget_backoff_s(20, 0.0) == 7.5 and widget_backoff_s(20, 0.999) < 15.0


def test_a_resume_that_skips_a_message_is_counted_as_a_gap() -> None:
    ledger = SeqLedger()
    ledger.joined([1, 2, 3], 3)
    ledger.message(4)
    ledger.joined([5, 7], 7)  # rejoined with since=4: 6 never came
    assert (ledger.last, ledger.gaps, ledger.repeats) == (7, 1, 0)


def test_a_message_delivered_twice_is_counted_as_a_repeat() -> None:
    ledger = SeqLedger()
    ledger.joined([], 0)
    for seq in (1, 2, 2, 3):
        ledger.message(seq)
    assert (ledger.last, ledger.gaps, ledger.repeats) == (3, 0, 1)


def test_a_first_join_owes_no_history() -> None:
    ledger = SeqLedger()
    ledger.joined([40, 41], 41)  # the latest messages only: 1-39 are not owed
    assert (ledger.last, ledger.gaps) == (41, 0)


class _Socket:
    def __init__(self, tag: StormClient) -> None:
        self.tag = tag


def test_a_storm_client_is_caught_up_by_the_joined_frame_after_its_resume() -> None:
    gen = StormGen(track=True)
    client = StormClient({"room": "t1", "token": "x", "sender": False, "port": 1, "alt_port": 2})
    sock = _Socket(client)
    gen.on_text(sock, b'{"type":"joined","ticket":"t1","last_seq":2,"messages":[{"seq":1},{"seq":2}]}')
    gen.on_text(sock, b'{"type":"message","id":"t1:3","ticket":"t1","seq":3,"body":"x"}')
    client.lost_at = 1.0
    gen.on_text(sock, b'{"type":"joined","ticket":"t1","last_seq":5,"messages":[{"seq":4},{"seq":5}]}')
    assert client.caught_up_at > 0 and client.ledger.last == 5 and client.ledger.gaps == 0


def test_a_bare_resume_client_is_back_at_its_joined_not_at_its_connect() -> None:
    gen = StormGen(track=False, bare_resume=True)
    client = StormClient({"room": "r1", "token": "x", "sender": False, "port": 1, "alt_port": 2})
    gen.reconnecting.append(client)
    client.lost_at, client.connected_at = 1.0, 2.0
    gen.clients.append(client)
    client.ws = _Socket(client)  # type: ignore[assignment]
    gen.on_text(client.ws, b'{"op":"welcome"}')  # type: ignore[arg-type]
    assert gen.status()["done"] == 0 and not client.online
    gen.on_text(client.ws, b'{"op": "joined", "room": "r1"}')  # type: ignore[arg-type]  # as bench/peers/bare.py
    assert gen.status()["done"] == 1 and client.online and client.caught_up_at > 0
    plain = StormGen(track=False)  # the plain reconnect is back once connected
    other = StormClient({"room": "r1", "token": "x", "sender": False, "port": 1, "alt_port": 2})
    plain.reconnecting.append(other)
    other.lost_at, other.connected_at, other.ws = 1.0, 2.0, _Socket(other)  # type: ignore[assignment]
    assert plain.status()["done"] == 1


def test_the_storm_table_sets_helpline_beside_the_bare_servers_own_resume() -> None:
    row = {"lost": 10, "caught_up": 10, "seconds_to_last": 2.0, "resumes_per_s": 100.0, "label": "x"}
    results = {
        "storm": {
            "clients": 20,
            "msg_per_s": 200,
            "helpline": {**row, "label": "Helpline", "survivor_cpu_ms_per_resume": 0.5, "gap_free": True, "gaps": 0},
            "bare": {**row, "label": "bare", "resumes_per_s": 400.0},
            "bare_resume": {**row, "label": "bare", "resumes_per_s": 200.0, "survivor_cpu_ms_per_resume": 0.25},
            "resume_rate_vs_bare": 0.25,
            "resume_rate_vs_bare_resume": 0.5,
        }
    }
    lines = report_workloads._storm(results, [])
    assert any("connect + hello + join, one round trip" in line for line in lines)
    assert any("Helpline resumes at 50 % of its rate, for 0.50 against 0.25 ms" in line for line in lines)
    del results["storm"]["bare_resume"], results["storm"]["resume_rate_vs_bare_resume"]  # an older run's file
    assert not any("one round trip" in line for line in report_workloads._storm(results, []))


def test_the_step_table_shows_the_after_join_row_and_every_steps_max() -> None:
    step = {
        "offered": 500,
        "delivered_per_s": 499.0,
        "p50_ms": 0.6,
        "p95_ms": 2.0,
        "p99_ms": 140.0,
        "p999_ms": 200.0,
        "max_ms": 245.0,
        "max_ok": False,
        "node_cpu_pct": [5.0, 5.0],
        "redis_cpu_pct": 1.0,
        "helper_cpu_pct": [3.0],
        "total_cpu_ms_per_1k": 90.0,
        "gen_cpu_pct": 4.0,
        "ok": False,
        "why": "p99 140.0 ms",
    }
    run = {
        "system": "helpline",
        "label": "Helpline",
        "nodes": 2,
        "after_join": {**step, "label": "after join"},
        "steps": [{**step, "p99_ms": 3.0, "max_ms": 9.0, "max_ok": True, "ok": True, "why": ""}],
        "max_deliveries_per_s": 499.0,
    }
    text = report.table({"fanout": [run]})
    assert "| helpline | after join @500 | 499 | 0.6 | 2.0 | 140.0 | 200.0 | 245.0 | **no** · **no** |" in text
    assert "| helpline | 500 | 499 | 0.6 | 2.0 | 3.0 | 200.0 | 9.0 | yes · yes |" in text


def test_four_nodes_are_compared_only_at_rates_both_passed() -> None:
    two = {
        "steps": [
            {"offered": 1000, "ok": True, "total_cpu_ms_per_1k": 100.0},
            {"offered": 5000, "ok": True, "total_cpu_ms_per_1k": 80.0},
        ]
    }
    four = {
        "steps": [
            {"offered": 1000, "ok": True, "total_cpu_ms_per_1k": 120.0},
            {"offered": 5000, "ok": False, "total_cpu_ms_per_1k": 70.0},
        ]
    }
    assert report.cpu_ratio_by_rate(two, four) == {1000: 1.2}


def test_the_four_node_goal_is_read_beside_the_bare_servers_own_ratio() -> None:
    results = {
        "nodes4": {
            "two": {"total_cpu_ms_per_1k_by_rate": {"5000": 100.0}},
            "four": {"total_cpu_ms_per_1k_by_rate": {"5000": 125.0}},
            "ratio_by_rate": {"5000": 1.25},
            "bare_ratio_by_rate": {"5000": 1.18},  # as a run's JSON has them: rates as strings
        }
    }
    goals: list[str] = []
    lines = report_workloads._four(results, goals)
    assert "| 5000 | 100 | 125 | 1.25× | 1.18× |" in lines
    assert goals == [
        "| 4 nodes: total CPU per 1,000 deliveries ≤ 1.1× 2 nodes (at 5000/s) | 1.25× (the bare server's own: 1.18×) "
        "| no |"
    ]


def _interval(at: float, lag: int, rss: float, closed: int = 0) -> dict[str, object]:
    return {
        "at_s": at,
        "worker_lag": lag,
        "node_rss_mib": [rss, rss],
        "closed": closed,
        "ok": True,
        "p99_ms": 3.0,
        "max_ms": 9.0,
    }


def test_a_soak_with_a_growing_lag_and_memory_is_reported_so() -> None:
    growing = _summary([_interval(60.0 * i, 300 + 2000 * i, 100.0 + i) for i in range(10)], msg_rate=4000)
    assert not growing["worker_lag_flat"] and not growing["rss_ok"]
    assert growing["rss_growth_pct"] == [7.9, 7.9]  # judged from the first interval after the first minute (101)
    assert growing["rss_growth_from_first_pct"] == [9.0, 9.0] and growing["rss_slope_mib_per_min"] == [1.0, 1.0]
    flat = _summary(
        [_interval(60.0 * i, 300 + (50 if i % 2 else 0), 100.0, closed=i == 3) for i in range(10)], msg_rate=4000
    )
    assert flat["worker_lag_flat"] and flat["rss_ok"] and flat["connections_lost"] == 1


def test_the_soaks_warm_up_is_told_apart_from_a_growth() -> None:
    # The first ten seconds at full rate: the arenas and buffers grow to their working size once, then stay.
    rss = [100.0, 104.0, 106.0, 106.2] + [106.2] * 56
    warm = _summary([_interval(10.0 * (i + 1), 300, r) for i, r in enumerate(rss)], msg_rate=4000)
    assert warm["rss_baseline_at_s"] == 60.0 and warm["rss_growth_pct"] == [0.0, 0.0] and warm["rss_ok"]
    assert warm["rss_growth_from_first_pct"] == [6.2, 6.2]  # reported beside it, not judged
    leak = _summary([_interval(10.0 * (i + 1), 300, 100.0 + 0.1 * i) for i in range(60)], msg_rate=4000)
    assert not leak["rss_ok"] and leak["rss_growth_pct"] == [5.4, 5.4]


def test_the_soak_runs_at_half_the_top_rate_however_low_the_top() -> None:
    assert soak_rate(39_953) == 20_000 and soak_rate(9_992) == 5_000
    assert soak_rate(495) == 200 and soak_rate(0) == 100  # a loaded machine's top: never a soak at 0/s


def _ok(offered: int, ok: bool, node_cpu: float = 50.0) -> dict[str, object]:
    return {"offered": offered, "ok": ok, "delivered_per_s": offered, "node_cpu_ms_per_1k": node_cpu}


def test_the_top_rate_is_bisected_between_the_top_pass_and_the_lowest_failure_above_it() -> None:
    assert bisect_rate([_ok(5000, True), _ok(10000, True), _ok(15000, False)]) == 12500
    assert bisect_rate([_ok(2000, False), _ok(10000, True), _ok(12500, True), _ok(15000, False)]) == 13800
    assert bisect_rate([_ok(10000, True), _ok(10200, False)]) is None  # close enough
    assert bisect_rate([_ok(10000, True)]) is None  # nothing failed: the top is a floor
    assert bisect_rate([_ok(1000, False)]) is None


def test_each_cluster_goal_compares_its_pair_at_the_rates_both_passed() -> None:
    single = {"nodes": 2, "max_deliveries_per_s": 10000, "steps": [_ok(1000, True, 100), _ok(10000, True, 50)]}
    cluster = {"nodes": 2, "max_deliveries_per_s": 10000, "steps": [_ok(1000, True, 110), _ok(10000, True, 55)]}
    stalled = {"nodes": 4, "max_deliveries_per_s": 1000, "steps": [_ok(1000, True, 100), _ok(2500, False)]}
    rows = report_cluster._goal_rows("cluster ÷ one Redis, 2 nodes", single, cluster, 0.15)
    assert "1.10× @1000/s, 1.10× @10000/s" in rows[1]  # the 4-node run's stall does not empty this pair's rates
    rows = report_cluster._goal_rows("cluster ÷ one Redis, 4 nodes", single, stalled, 0.15)
    assert "1.00× @1000/s" in rows[1] and "@10000" not in rows[1]


def test_the_cluster_without_replicas_is_reported_beside_one_redis_when_it_was_run() -> None:
    def run(nodes: int, top: int, cpu: float) -> dict[str, object]:
        steps = [
            {**_ok(rate, ok, cpu), "redis_cpu_ms_per_1k": 10, "total_cpu_ms_per_1k": 80}
            for rate, ok in ((1000, True), (top, True), (top * 2, False))
        ]
        return {"nodes": nodes, "max_deliveries_per_s": top, "steps": steps, "best_step": steps[1]}

    cluster = {
        "single_2": run(2, 20000, 50),
        "cluster_2": run(2, 16000, 50),
        "single_4": run(4, 16000, 60),
        "cluster_4": run(4, 12000, 60),
        "cluster_2_replicas1": run(2, 8000, 60),
        "cluster_2_no_replicas": run(2, 18000, 55),
    }
    lines = report_cluster.section({"cluster": cluster})
    row = next(line for line in lines if line.startswith("| cluster without replicas, 2 nodes |"))
    assert "| 18000 | 9000 |" in row
    said = next(line for line in lines if line.startswith("The cluster's 3 primaries without their replicas"))
    assert "9000 deliveries/s per gateway node against one Redis's 10000 = 0.90× (with the replicas 0.80×)" in said
    assert "1.10× @1000/s" in said
    del cluster["cluster_2_no_replicas"]  # a run from before it was measured: no row, no sentence, no "failed"
    lines = report_cluster.section({"cluster": cluster})
    assert not any("without replicas" in line for line in lines)
