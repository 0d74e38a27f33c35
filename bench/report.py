"""The run's table (ratios first: the machine is shared and noisy), its JSON record and its throughput/latency chart."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bench.stats import P99_LIMIT_MS, ms

GOALS = {"socketio": 3.0, "channels-pubsub": 3.0, "channels-classic": 6.0}


def _f(x: Any, fmt: str = "{:.0f}") -> str:
    if x is None or (isinstance(x, float) and (math.isinf(x) or math.isnan(x))):
        return "—"
    return fmt.format(x)


def fanout_runs(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every fan-out of the run by a name of its own: the 2-node systems, the embedded default, Helpline on 4 nodes."""
    runs = {r["system"]: r for r in results.get("fanout", [])}
    if results.get("embedded"):
        runs.setdefault(results["embedded"]["system"], results["embedded"])
    four = (results.get("nodes4") or {}).get("four")
    if four:
        runs["helpline ×4 nodes"] = four
    return runs


def cpu_ratio_by_rate(two: dict[str, Any], four: dict[str, Any]) -> dict[int, float]:
    """Total CPU (nodes + Redis + worker) per 1,000 deliveries on 4 nodes ÷ on 2 nodes, at every rate both passed."""

    def passed(r: dict[str, Any]) -> dict[int, float]:
        return {s["offered"]: s["total_cpu_ms_per_1k"] for s in r.get("steps", []) if s["ok"]}

    a, b = passed(two), passed(four)
    return {rate: b[rate] / a[rate] for rate in sorted(set(a) & set(b)) if a[rate]}


def table(results: dict[str, Any]) -> str:
    fan = fanout_runs(results)
    idle = {}
    for r in results.get("idle", []):
        idle.setdefault(r["system"], {})[r["connections_wanted"]] = r
    helpline = fan.get("helpline", {})
    bare = fan.get("bare", {})
    bare_idle = min(idle.get("bare", {}).values(), key=lambda r: r["connections_wanted"], default={})
    lines = [
        "### Fan-out (2 nodes, one Redis; the embedded default on 1; Helpline on 4 too) and idle connections "
        "(one node)",
        "",
        "| system | deliveries/s at p99 ≤ 25 ms | p50 / p95 / p99 / max ms at that step | node CPU ms per 1k deliveries "
        "@1k/s · @5k/s | Helpline ÷ system (throughput) | idle KiB/conn | idle CPU % |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in fan.items():
        best = r.get("best_step") or {}
        ratio = (
            helpline.get("max_deliveries_per_s", 0) / r["max_deliveries_per_s"]
            if r.get("max_deliveries_per_s")
            else None
        )
        smallest = min(idle.get(name, {}).values(), key=lambda x: x["connections_wanted"], default={})
        lines.append(
            f"| {r['label']} ({r['nodes']} node{'s' if r['nodes'] > 1 else ''}) | "
            f"{_f(r.get('max_deliveries_per_s'))} | "
            f"{_f(best.get('p50_ms'), '{:.1f}')} / {_f(best.get('p95_ms'), '{:.1f}')} / "
            f"{_f(best.get('p99_ms'), '{:.1f}')} / {_f(best.get('max_ms'), '{:.1f}')} | {_f(_cpu(r, 1000))} · {_f(_cpu(r, 5000))} | "
            f"{_f(ratio, '{:.2f}×')} | {_f(smallest.get('kib_per_connection'), '{:.1f}')} | "
            f"{_f(smallest.get('idle_cpu_pct'), '{:.1f}')} |"
        )
    lines += ["", "### Goals (same run)", "", "| goal | measured | met |", "| --- | --- | --- |"]
    hl = helpline.get("max_deliveries_per_s") or 0.0
    for peer, want in GOALS.items():
        got = fan.get(peer, {}).get("max_deliveries_per_s")
        ratio = hl / got if got else None
        lines.append(f"| throughput ≥ {want:g}× {peer} | {_f(ratio, '{:.2f}×')} | {_yes(ratio, want)} |")
    share = hl / bare["max_deliveries_per_s"] if bare.get("max_deliveries_per_s") else None
    lines.append(f"| throughput ≥ 75% of bare | {_f(share and 100 * share, '{:.0f}%')} | {_yes(share, 0.75)} |")
    rate = 5000 if _cpu(helpline, 5000) and _cpu(bare, 5000) else 1000
    cpu_ratio = (
        _cpu(helpline, rate) / _cpu(bare, rate)  # type: ignore[operator]
        if _cpu(helpline, rate) and _cpu(bare, rate)
        else None
    )
    lines.append(
        f"| node CPU per delivery ≤ 1.25× bare (at {rate}/s) | {_f(cpu_ratio, '{:.2f}×')} | "
        f"{_yes(cpu_ratio and 1 / cpu_ratio, 0.8)} |"
    )
    hl_idle = idle.get("helpline", {})
    small = min(hl_idle.values(), key=lambda r: r["connections_wanted"], default={})
    rss_bare = (
        small.get("kib_per_connection") / bare_idle["kib_per_connection"]
        if small.get("kib_per_connection") and bare_idle.get("kib_per_connection")
        else None
    )
    lines.append(f"| idle RSS/conn ≤ 1.25× bare | {_f(rss_bare, '{:.2f}×')} | {_yes(rss_bare and 1 / rss_bare, 0.8)} |")
    sio = min(idle.get("socketio", {}).values(), key=lambda r: r["connections_wanted"], default={})
    rss_sio = (
        small.get("kib_per_connection") / sio["kib_per_connection"]
        if small.get("kib_per_connection") and sio.get("kib_per_connection")
        else None
    )
    lines.append(
        f"| idle RSS/conn ≤ 0.5× python-socketio | {_f(rss_sio, '{:.2f}×')} | {_yes(rss_sio and 1 / rss_sio, 2.0)} |"
    )
    biggest = max(hl_idle.values(), key=lambda r: r["connections_wanted"], default={})
    wanted = biggest.get("connections_wanted") or 0
    limit = results.get("descriptor_limit")
    capped = f" (this machine allows {limit} descriptors a process)" if limit and wanted < 20000 else ""
    if biggest:  # a run without the idle workload did not measure it (a "no" here would be false)
        lines.append(
            f"| 20,000 connections on one node | {_f(biggest.get('still_open'))} open of {_f(wanted)}{capped} | "
            f"{_yes((biggest.get('still_open') or 0) / 20000, 1.0) if not capped else _at_limit(biggest)} |"
        )
    p = results.get("persistence") or {}
    if p:
        bare_ins = p.get("bare_insert", {}).get("per_s")
        lines.append(
            f"| worker ≥ 50,000 msg/s | {_f(p.get('drain_per_s'))}/s | {_yes(p.get('drain_per_s'), 50000, 1)} |"
        )
        half = p.get("drain_per_s") / bare_ins if bare_ins and p.get("drain_per_s") else None
        lines.append(
            f"| worker ≥ half the bare insert ({_f(bare_ins)}/s) | {_f(half and 100 * half, '{:.0f}%')} | "
            f"{_yes(half, 0.5)} |"
        )
    lines += [
        "",
        "### Idle connections",
        "",
        "| system | connections | open after idle | KiB/conn | idle CPU % | connect s | full-collection pause ms "
        "| gc objects/conn |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, by_n in idle.items():
        for n, r in sorted(by_n.items()):
            lines.append(
                f"| {name} | {_f(r.get('connections'))} | {_f(r.get('still_open'))} | "
                f"{_f(r.get('kib_per_connection'), '{:.1f}')} | {_f(r.get('idle_cpu_pct'), '{:.1f}')} | "
                f"{_f(r.get('connect_s'), '{:.0f}')} | {_f(r.get('gc_full_pause_ms'), '{:.0f}')} | "
                f"{_f(r.get('gc_tracked_per_connection'), '{:.1f}')} |"
            )
    if p:
        lines += [
            "",
            "### Persistence (helpline worker → PostgreSQL)",
            "",
            f"- backlog {p['backlog']:,} messages drained in {p['drain_s']:.1f} s: **{p['drain_per_s']:,.0f} "
            f"msg/s** (bare unnest insert, 1,000 rows a batch: {p['bare_insert']['per_s']:,.0f} rows/s)",
            f"- steady {p['steady_offered_per_s']:,} msg/s offered: max lag {p['steady_lag_max']:,} messages "
            f"(mean {p['steady_lag_mean']:,.0f}), worker CPU {p['steady_worker_cpu_pct']:.0f}%",
        ]
    lim = results.get("limits") or {}
    if lim:
        lines += [
            "",
            "### The machine's limit",
            "",
            f"- redis-benchmark PUBLISH (100 B, 50 clients): {_f(lim.get('publish_per_s'))}/s; pipelined ×16: "
            f"{_f(lim.get('publish_pipelined16_per_s'))}/s",
            f"- bare websockets + Redis broadcast (fan-out above): {_f(bare.get('max_deliveries_per_s'))} "
            f"deliveries/s; Helpline reaches {_f(share and 100 * share, '{:.0f}%')} of it",
        ]
    from bench import report_cluster, report_workloads

    lines += report_workloads.sections(results)
    lines += report_cluster.section(results)
    lines += [
        "",
        "### Every fan-out step",
        "",
        "The first row of each system is the first seconds of load right after its join burst (`after join`, "
        "at the first step's rate). A step passes (for throughput) on p99 ≤ 25 ms; the tail rule wants p99 ≤ "
        "25 ms **and** max ≤ 100 ms at every step up to 80 % of the top passing rate.",
        "",
        "| system | offered/s | delivered/s | p50 | p95 | p99 | p99.9 | max ms | p99 ≤ 25 · max ≤ 100 | node CPU % | "
        "Redis CPU % | worker CPU % | all CPU ms/1k | generator CPU % | ok |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, r in fan.items():
        rows = ([r["after_join"]] if r.get("after_join") else []) + r.get("steps", [])
        for s in rows:
            first = s.get("first_try")
            retried = (
                f" (2nd try; 1st: p99 {_f(first['p99_ms'], '{:.1f}')}, max {_f(first['max_ms'], '{:.1f}')})"
                if first
                else ""
            )
            lines.append(
                f"| {name} | {s.get('label') or s['offered']}{' @' + str(s['offered']) if s.get('label') else ''}"
                f" | {s['delivered_per_s']:.0f} | {_f(s['p50_ms'], '{:.1f}')} | "
                f"{_f(s['p95_ms'], '{:.1f}')} | {_f(s['p99_ms'], '{:.1f}')} | "
                f"{_f(s.get('p999_ms'), '{:.1f}')} | {_f(s.get('max_ms'), '{:.1f}')} | "
                f"{_mark(ms(s['p99_ms']) <= P99_LIMIT_MS)} · {_mark(s.get('max_ok'))} | "
                f"{' + '.join(f'{c:.0f}' for c in s['node_cpu_pct'])} | {s['redis_cpu_pct']:.0f} | "
                f"{' + '.join(f'{c:.0f}' for c in s['helper_cpu_pct']) or '—'} | "
                f"{_f(s.get('total_cpu_ms_per_1k'))} | {s['gen_cpu_pct']:.0f} | "
                f"{('yes' if s['ok'] else s['why']) + retried} |"
            )
    return "\n".join(lines)


def _mark(ok: bool | None) -> str:
    return "—" if ok is None else ("yes" if ok else "**no**")


def _cpu(r: dict[str, Any], rate: int) -> float | None:
    by_rate = r.get("cpu_ms_per_1k_by_rate") or {}
    value = by_rate.get(rate, by_rate.get(str(rate)))
    return None if value is None or math.isinf(value) else value


def _at_limit(run: dict[str, Any]) -> str:
    """Met as far as the machine allows: every connection it could hold was opened and stayed open."""
    ok = run.get("still_open") == run.get("connections_wanted") and not run.get("errors")
    return "**yes, up to the machine's limit**" if ok else "no"


def _yes(value: float | None, want: float, scale: float = 1.0) -> str:
    if value is None:
        return "not measured"
    return "**yes**" if value * scale >= want else "no"


def _clean(x: Any) -> Any:
    if isinstance(x, float) and (math.isinf(x) or math.isnan(x)):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clean(v) for v in x]
    return x


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_clean(results), indent=1))


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=110)
    for r in results.get("fanout", []):
        steps = [s for s in r.get("steps", []) if not math.isinf(s["p99_ms"])]
        if not steps:
            continue
        xs = [s["delivered_per_s"] for s in steps]
        ax.plot(xs, [s["p99_ms"] for s in steps], marker="o", label=f"{r['label']} p99")
        ax.plot(xs, [s["p50_ms"] for s in steps], linestyle=":", color=ax.lines[-1].get_color(), linewidth=1)
    ax.axhline(25, color="grey", linestyle="--", linewidth=1)
    ax.text(ax.get_xlim()[0], 26, " p99 limit 25 ms", color="grey", fontsize=8)
    ax.set_yscale("log")
    ax.set_xscale("log")
    c = results.get("config", {})
    ax.set_xlabel(
        f"deliveries per second ({c.get('nodes')} nodes, {c.get('rooms')} rooms × {c.get('members')} members, "
        f"100-byte messages)"
    )
    ax.set_ylabel("end-to-end latency, ms (solid p99, dotted p50)")
    ax.set_title("Fan-out: throughput vs latency, same machine, same run")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def update_docs(results: dict[str, Any], text: str, png: Path, docs: Path) -> None:
    """A full run replaces the results section of docs/benchmarks.md and bench/results/latest.png."""
    import shutil

    if not docs.exists():
        return
    m = results.get("machine", {})
    head = (
        f"Run of {results.get('date')}, {results.get('duration_s', 0):.0f} s: {m.get('cpu')}, {m.get('cores')} "
        f"cores, {m.get('memory_gib')} GiB, Python {m.get('python')}, Redis {m.get('redis')}; load average at the "
        f"start {m.get('load_avg_at_start')} (other engineers' tests share the machine). Raw: "
        f"`bench/results/{png.stem}.json`.\n\n"
    )
    body = docs.read_text()
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    if start in body and end in body:
        before, rest = body.split(start, 1)
        after = rest.split(end, 1)[1]
        docs.write_text(before + start + "\n" + head + text + "\n" + end + after)
    shutil.copyfile(png, png.parent / "latest.png")
