"""The report's tables for the workloads of issue 18: tail latency after the join burst, the reconnect storm, the
embedded default, four nodes, the soak and the widget's first load; and their goals, judged on this run only."""

from __future__ import annotations

import math
from typing import Any

from bench.stats import MAX_LIMIT_MS, P99_LIMIT_MS, RSS_GROWTH_LIMIT_PCT, TAIL_SHARE, tail_goal

STORM_GOAL_S = 10.0
STORM_RATE_SHARE = 0.75
EMBEDDED_GOAL = 10_000
FOUR_NODE_CPU_RATIO = 1.1
WIDGET_BYTES = 15_000
WIDGET_ROUND_TRIPS = 2


def _f(x: Any, fmt: str = "{:.0f}") -> str:
    if x is None or (isinstance(x, float) and (math.isinf(x) or math.isnan(x))):
        return "—"
    return fmt.format(x)


def _met(ok: bool | None) -> str:
    return "not measured" if ok is None else ("**yes**" if ok else "no")


def sections(results: dict[str, Any]) -> list[str]:
    goals: list[str] = []
    lines = _tail(results, goals) + _storm(results, goals) + _embedded(results, goals) + _four(results, goals)
    lines += _soak(results, goals) + _widget(results, goals) + _durations(results)
    if not goals:
        return lines
    return [
        "",
        "### Goals of issue 18 (same run)",
        "",
        "| goal | measured | met |",
        "| --- | --- | --- |",
        *goals,
    ] + lines


def _tail(results: dict[str, Any], goals: list[str]) -> list[str]:
    runs = [r for r in results.get("fanout", []) + [results.get("embedded") or {}] if r.get("steps")]
    if not runs:
        return []
    lines = [
        "",
        "### Tail latency: the first seconds after the join burst, and every step up to 80 % of the top",
        "",
        f"| system | after join: p50 / p99 / p99.9 / max ms | from the join on, up to {TAIL_SHARE:.0%} of the top: "
        "worst p99 / worst max ms | first step breaking p99 ≤ 25 or max ≤ 100 |",
        "| --- | ---: | ---: | --- |",
    ]
    for r in runs:
        aj = r.get("after_join") or {}
        g = tail_goal(aj or None, r["steps"], r.get("max_deliveries_per_s") or 0.0)
        lines.append(
            f"| {r['label']} | {_f(aj.get('p50_ms'), '{:.1f}')} / {_f(aj.get('p99_ms'), '{:.1f}')} / "
            f"{_f(aj.get('p999_ms'), '{:.1f}')} / {_f(aj.get('max_ms'), '{:.1f}')} | "
            f"{_f(g['worst_p99_ms'], '{:.1f}')} / {_f(g['worst_max_ms'], '{:.1f}')} (after join + steps ≤ "
            f"{_f(g['up_to_offered'])}) "
            f"| {g['first_broken'] or 'none'} |"
        )
        if r["system"] == "helpline":
            goals.append(
                f"| from the first step after the join burst, p99 ≤ {P99_LIMIT_MS:g} ms and max ≤ "
                f"{MAX_LIMIT_MS:g} ms up to {TAIL_SHARE:.0%} of the top rate (Helpline, 2 nodes) | worst p99 "
                f"{_f(g['worst_p99_ms'], '{:.1f}')} ms, worst max {_f(g['worst_max_ms'], '{:.1f}')} ms"
                f"{'; ' + g['first_broken'] if g['first_broken'] else ''} | {_met(g['met'])} |"
            )
    return lines


def _storm(results: dict[str, Any], goals: list[str]) -> list[str]:
    st = results.get("storm")
    if not st:
        return []
    hl, bare, bare_resume = st.get("helpline") or {}, st.get("bare") or {}, st.get("bare_resume") or {}
    lines = [
        "",
        f"### Reconnect storm: {st['clients']:,} clients on 2 nodes, one killed (SIGKILL) while "
        f"{st['msg_per_s']:.0f} messages/s flow",
        "",
        "| system | clients of the dead node | back | last back after the kill | resumes/s on the survivor | "
        "first try after | most tries | survivor CPU % (before the kill) | survivor CPU ms per client back | gaps · repeats · rooms "
        "disagreeing |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, r, what in (
        ("helpline", hl, "connect + hello + join with `since`, caught up"),
        ("bare", bare, "connect only"),
        ("bare_resume", bare_resume, "connect + hello + join, one round trip"),
    ):
        if not r:
            continue  # a run from before the bare resume was measured
        if r.get("error") and not r.get("lost"):
            lines.append(f"| {name} | failed: {r['error']} | | | | | | | | |")
            continue
        checks = (
            f"{r.get('gaps')} · {r.get('repeats')} · {r.get('rooms_disagreeing')}"
            if name == "helpline"
            else "not checked (no history)"
        )
        lines.append(
            f"| {r.get('label', name)} ({what}) | {_f(r.get('lost'))} | {_f(r.get('caught_up'))} | "
            f"{_f(r.get('seconds_to_last'), '{:.1f} s')} | {_f(r.get('resumes_per_s'))} | "
            f"{_f(r.get('first_attempt_after_s'), '{:.2f} s')} | {_f(r.get('tries_max'))} | "
            f"{_f(r.get('survivor_cpu_pct'))} ({_f(r.get('survivor_baseline_cpu_pct'))}) | "
            f"{_f(r.get('survivor_cpu_ms_per_resume'), '{:.2f}')} | "
            f"{checks} |"
        )
    phases = hl.get("phases_ms") or {}
    if phases:
        lines += [
            "",
            "Where a Helpline resume's time goes (per client, ms, p50 / p99 / max): "
            + "; ".join(f"{name} {v['p50']:.0f} / {v['p99']:.0f} / {v['max']:.0f}" for name, v in phases.items())
            + " (connect: first try → WebSocket open; hello: → welcome; join: → joined).",
        ]
    like = st.get("resume_rate_vs_bare_resume")
    if like is not None:
        lines += [
            "",
            f"The same exchanges on both sides (the bare server's resume: a PyJWT hello and a room join, no history): "
            f"Helpline resumes at {100 * like:.0f} % of its rate, for "
            f"{_f(hl.get('survivor_cpu_ms_per_resume'), '{:.2f}')} against "
            f"{_f(bare_resume.get('survivor_cpu_ms_per_resume'), '{:.2f}')} ms of survivor CPU per client.",
        ]
    lines.append("")
    lines.append(
        "Every client of the dead node waits as widget/client.js does (0.25-0.5 s, then doubling to 15 s on "
        "failure), then goes to the other node; resumes/s = clients back ÷ (last back − first try); CPU per "
        "client back is the survivor's CPU during the storm above its rate in the 2 s before the kill."
    )
    ratio = st.get("resume_rate_vs_bare")
    within = hl.get("seconds_to_last")
    ok = (
        within is not None
        and within <= STORM_GOAL_S
        and hl.get("caught_up") == hl.get("lost")
        and bool(hl.get("gap_free"))
    )
    goals.append(
        f"| storm: the last of {st['clients']:,} clients caught up gap-free ≤ {STORM_GOAL_S:g} s after the kill "
        f"| {_f(within, '{:.1f} s')}, {_f(hl.get('caught_up'))} of {_f(hl.get('lost'))} back, gaps "
        f"{_f(hl.get('gaps'))} | {_met(ok if hl.get('lost') else None)} |"
    )
    goals.append(
        f"| storm: connect + hello + join ≥ {STORM_RATE_SHARE:.0%} of the bare server's connect rate | "
        f"{_f(hl.get('resumes_per_s'))}/s vs {_f(bare.get('resumes_per_s'))}/s = "
        f"{_f(ratio and 100 * ratio, '{:.0f} %')} | {_met(None if ratio is None else ratio >= STORM_RATE_SHARE)} |"
    )
    return lines


def _embedded(results: dict[str, Any], goals: list[str]) -> list[str]:
    r = results.get("embedded")
    if not r:
        return []
    best = r.get("best_step") or {}
    goals.append(
        f"| embedded default ≥ {EMBEDDED_GOAL:,} deliveries/s at p99 ≤ {P99_LIMIT_MS:g} ms (1 node, SQLite, "
        f"in-memory bus) | {_f(r.get('max_deliveries_per_s'))}/s (p99 {_f(best.get('p99_ms'), '{:.1f}')} ms) | "
        f"{_met((r.get('max_deliveries_per_s') or 0) >= 0.99 * EMBEDDED_GOAL if r.get('steps') else None)} |"
    )
    config = results.get("config", {})
    members = config.get("rooms", 0) * config.get("members", 0)
    return [
        "",
        "### Embedded default (one `helpline gateway`, SQLite, in-memory bus)",
        "",
        f"One node holds all {members:,} members, so every delivery is local; every message is in SQLite before its ack. Top passing rate: "
        f"**{_f(r.get('max_deliveries_per_s'))} deliveries/s** (p50 / p99 / max {_f(best.get('p50_ms'), '{:.1f}')} / "
        f"{_f(best.get('p99_ms'), '{:.1f}')} / {_f(best.get('max_ms'), '{:.1f}')} ms); every step is in the table "
        f"below{'; failed: ' + r['error'] if r.get('error') else ''}.",
    ]


def _four(results: dict[str, Any], goals: list[str]) -> list[str]:
    n4 = results.get("nodes4")
    if not n4:
        return []
    two, four, ratios = n4.get("two") or {}, n4.get("four") or {}, n4.get("ratio_by_rate") or {}
    bare = n4.get("bare_ratio_by_rate") or {}
    lines = [
        "",
        "### Four nodes on one Redis (same run as 2 nodes): total CPU (nodes + Redis + worker) per 1,000 deliveries",
        "",
        "| offered/s | 2 nodes ms/1k | 4 nodes ms/1k | 4 ÷ 2 | bare server's own 4 ÷ 2 (nodes + Redis) |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    by2 = two.get("total_cpu_ms_per_1k_by_rate") or {}
    by4 = four.get("total_cpu_ms_per_1k_by_rate") or {}
    for rate, ratio in ratios.items():
        two_ms, four_ms = by2.get(rate, by2.get(str(rate))), by4.get(rate, by4.get(str(rate)))
        bare_ratio = bare.get(rate, bare.get(str(rate)))
        lines.append(f"| {rate} | {_f(two_ms)} | {_f(four_ms)} | {ratio:.2f}× | {_f(bare_ratio, '{:.2f}×')} |")
    lines += [
        "",
        f"Top passing rate: 2 nodes {_f(two.get('max_deliveries_per_s'))}/s, 4 nodes "
        f"{_f(four.get('max_deliveries_per_s'))}/s (2 cores: cost, not throughput, is the figure).",
    ]
    key = 5000 if (5000 in ratios or "5000" in ratios) else (max(ratios, key=int) if ratios else None)
    value = ratios.get(key, ratios.get(str(key))) if key is not None else None  # JSON's keys are strings
    bare_value = bare.get(key, bare.get(str(key))) if key is not None else None
    beside = f" (the bare server's own: {bare_value:.2f}×)" if bare_value is not None else ""
    goals.append(
        f"| 4 nodes: total CPU per 1,000 deliveries ≤ {FOUR_NODE_CPU_RATIO:g}× 2 nodes (at {key}/s) | "
        f"{_f(value, '{:.2f}×')}{beside} | {_met(None if value is None else value <= FOUR_NODE_CPU_RATIO)} |"
    )
    return lines


def _soak(results: dict[str, Any], goals: list[str]) -> list[str]:
    s = results.get("soak")
    if not s:
        return []
    if s.get("error"):
        return ["", f"### Soak: failed: {s['error']}"]
    growth = ", ".join(f"{g} %" for g in s.get("rss_growth_pct", []))
    lines = [
        "",
        f"### Soak: Helpline (2 nodes + worker) at {s['offered']:,} deliveries/s for {s['seconds']:.0f} s",
        "",
        f"- node RSS growth from the interval at {_f(s.get('rss_baseline_at_s'))} s (after the warm-up) to the last: "
        f"**{growth}** (goal ≤ {RSS_GROWTH_LIMIT_PCT:g} %; {_mib(s.get('rss_baseline_mib'))} → "
        f"{_mib(s.get('rss_last_mib'))} MiB); fitted slope after the warm-up "
        f"{', '.join(f'{x:+.2f}' for x in s.get('rss_slope_mib_per_min') or [])} MiB/min; from the very first "
        f"interval (warm-up included): {', '.join(f'{g} %' for g in s.get('rss_growth_from_first_pct') or [])}",
        f"- worker lag (stream entries not yet acked): {s.get('worker_lag_first')} → {s.get('worker_lag_last')}, "
        f"max {s.get('worker_lag_max')}, fitted slope {_f(s.get('worker_lag_slope_per_min'), '{:.1f}')}/min: "
        f"**{'flat' if s.get('worker_lag_flat') else 'growing'}** (flat: its fitted growth over the soak is under "
        "100 ms worth of messages, or 500 entries)",
        f"- connections lost: **{s.get('connections_lost')}** of {_f(s.get('connected'))}; intervals failing p99 ≤ "
        f"25 ms or delivery: {s.get('intervals_failed')} of {len(s.get('intervals', []))}; worst p99 "
        f"{_f(s.get('worst_p99_ms'), '{:.1f}')} ms, worst max {_f(s.get('worst_max_ms'), '{:.1f}')} ms",
        "",
        "| at s | delivered/s | p99 ms | max ms | worker lag | node RSS MiB | worker RSS MiB | Redis RSS MiB | closed |",
        "| ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for i in s.get("intervals", []):
        lines.append(
            f"| {i['at_s']:.0f} | {i['delivered_per_s']:.0f} | {_f(i['p99_ms'], '{:.1f}')} | "
            f"{_f(i['max_ms'], '{:.1f}')} | {i['worker_lag']} | {_mib(i['node_rss_mib'])} | "
            f"{_mib(i.get('worker_rss_mib'))} | {_f(i.get('redis_rss_mib'), '{:.1f}')} | {i['closed']} |"
        )
    ok = bool(s.get("rss_ok")) and bool(s.get("worker_lag_flat")) and not s.get("connections_lost")
    goals.append(
        f"| soak {s['seconds']:.0f} s at {s['offered']:,}/s ({s.get('rate_from', 'half the top')}): node RSS growth ≤ "
        f"{RSS_GROWTH_LIMIT_PCT:g} % (after the warm-up), worker lag flat, no connection lost | RSS {growth}; lag "
        f"{'flat' if s.get('worker_lag_flat') else 'growing'}; {s.get('connections_lost')} lost | {_met(ok)} |"
    )
    return lines


def _durations(results: dict[str, Any]) -> list[str]:
    """Each workload's wall time: the full run has to fit its slot (docs/benchmarks.md, Reproduce)."""
    took = results.get("workload_s") or {}
    if not took:
        return []
    return [
        "",
        "### How long each workload took (wall seconds, this run)",
        "",
        "| " + " | ".join(took) + " | whole run |",
        "| " + " ---: |" * (len(took) + 1),
        "| " + " | ".join(f"{s:.0f}" for s in took.values()) + f" | {_f(results.get('duration_s'))} |",
    ]


def _mib(values: list[float] | None) -> str:
    return " + ".join(f"{x:.1f}" for x in values) if values else "—"


def _widget(results: dict[str, Any], goals: list[str]) -> list[str]:
    w = results.get("widget")
    if not w:
        return []
    if w.get("error"):
        return ["", f"### Widget first load: not measured: {w['error']}"]
    lines = [
        "",
        "### Widget first load (headless Chromium, `helpline up`, cold cache: a bare host page; the demo page below)",
        "",
        f"- the embed: **{w['bytes'] / 1000:.1f} kB on the wire in {w['requests']} requests, {w['round_trips']} "
        f"round trips deep** (its code: {w['code_bytes'] / 1000:.1f} kB, {w['code_requests']} requests, "
        f"{w['code_round_trips']} deep); {w['compressed_responses']} of them compressed",
        f"- script tag → launcher visible: **{w['script_to_launcher_ms']:.0f} ms** (median of {w['loads']}: "
        f"{w['script_to_launcher_ms_each']})",
        *_demo_page(w.get("demo_page")),
        "",
        "| request | round trip | type | bytes on the wire | encoding |",
        "| --- | ---: | --- | ---: | --- |",
    ]
    for name, depth, kind, size, enc in w.get("files", []):
        lines.append(f"| `{name}` | {depth} | {kind} | {size:,} | {enc or 'none'} |")
    ok = w["bytes"] <= WIDGET_BYTES and w["round_trips"] <= WIDGET_ROUND_TRIPS
    goals.append(
        f"| widget first load ≤ {WIDGET_BYTES / 1000:g} kB compressed in ≤ {WIDGET_ROUND_TRIPS} round trips | "
        f"{w['bytes'] / 1000:.1f} kB, {w['requests']} requests, {w['round_trips']} deep; launcher after "
        f"{w['script_to_launcher_ms']:.0f} ms | {_met(ok)} |"
    )
    return lines


def _demo_page(d: dict[str, Any] | None) -> list[str]:
    """The demo page's figures: its own modules share client.js, dom.js and i18n.js with the widget, so the embed
    may find them loaded there (the bare host, above, is the goal's figure)."""
    if not d:
        return []
    return [
        f"- on the demo page: {d['bytes'] / 1000:.1f} kB in {d['requests']} requests, {d['round_trips']} round trips "
        f"deep; launcher after {d['script_to_launcher_ms']:.0f} ms (median of {d['loads']})"
    ]
