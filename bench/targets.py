"""Issue 15's targets 1-7 against one benchmark run's figures (run.py's
``figures``): each printed as met or missed with the figure and by how
much. Judging a figure here is the benchmark's report, never a test."""

from __future__ import annotations


def judged(target: int, text: str, got: float | None, goal: float, most: bool, shown: str = "") -> dict:
    """One target: ``got`` against ``goal``, at most it when ``most``, else
    at least it; ``shown`` is the figure as printed; None: not measured."""
    if got is None:
        return {"target": target, "text": text, "measured": "not measured in this run", "met": None, "by": None}
    met = got <= goal if most else got >= goal
    factor = (goal / got if most else got / goal) if got else float("inf")
    return {"target": target, "text": text, "measured": shown, "met": met,
            "by": f"met with {factor:.2f}x to spare" if met else f"missed by {1 / factor:.2f}x"}


def checked(target: int, text: str, met: bool, shown: str) -> dict:
    """A target that is a yes or no."""
    return {"target": target, "text": text, "measured": shown, "met": met, "by": ""}


def noted(target: int, text: str, shown: str) -> dict:
    """A figure a target asks for that has no threshold of its own."""
    return {"target": target, "text": text, "measured": shown, "met": None, "by": ""}


def rows(figures: dict, opts) -> list[dict]:
    """Every target's rows, in the issue's order (at a --quick run's sizes)."""
    return [*speed(figures, opts), *strategy(figures, opts), *simulated(figures), *memory(figures),
            *security(figures, opts), *workers(figures, opts)]


def line(row: dict) -> str:
    verdict = {True: "met   ", False: "MISSED", None: "n/a   " if row["by"] is None else "      "}[row["met"]]
    return f"  {verdict} {row['target']}. {row['text']}: {row['measured']}" + (f"; {row['by']}" if row["by"] else "")


def comparisons(opts) -> tuple[str, str]:
    """The figures' keys of the 1-host and the fleet comparison."""
    return f"compare_1x{opts.big}", f"compare_{opts.fleet_hosts}x{opts.small}"


def speed(figures: dict, opts) -> list[dict]:
    """1: 1 x 50 against both peers, linear and bundles; 2: the fleet play
    against ansible -f 20 in the default strategy."""
    big, small = comparisons(opts)
    out = []

    def faster(target: int, key: str, peer: str, mode: str, goal: float, text: str) -> None:
        theirs = next((r for r in figures.get(key, []) if r["tool"] == peer), None)
        ours = next((r for r in figures.get(key, []) if r["tool"] == f"celeryroot {mode}"), None)
        ratio = theirs["wall"] / ours["wall"] if theirs and ours else None
        shown = f"{ratio:.1f}x ({ours['wall']:.2f} s against {theirs['wall']:.2f} s)" if ratio else ""
        out.append(judged(target, f"{text}: >= {goal:g}x {peer}", ratio, goal, False, shown))

    for mode in ("linear", "bundles"):
        faster(1, big, "ansible-playbook", mode, 100, f"1 host x {opts.big}, {mode}")
        faster(1, big, "pyinfra", mode, 5, f"1 host x {opts.big}, {mode}")
    faster(2, small, "ansible-playbook", "default", 100, f"{opts.fleet_hosts} hosts x {opts.small}, default strategy")
    return out


def strategy(figures: dict, opts) -> list[dict]:
    """3: the bench's plays depend on no other host, so the default must run
    them as bundles (as --json says, and why), with the same ok counts as
    each forced way."""
    big, small = comparisons(opts)
    scaling = figures.get("scaling", [])
    groups = {f"1 host x {opts.big}": figures.get(big, []),
              f"{opts.fleet_hosts} hosts x {opts.small}": figures.get(small, []),
              **{f"{h} host{'s' if h != 1 else ''} x {opts.scale_tasks}": [r for r in scaling if r["hosts"] == h]
                 for h in dict.fromkeys(r["hosts"] for r in scaling)}}
    out = []
    for size, group in groups.items():
        default = next((r for r in group if r.get("mode") == "default"), None)
        if default:
            execution, oks = default["execution"], {r["mode"]: r["ok"] for r in group if r.get("mode")}
            out.append(checked(3, f"default strategy, {size}: bundles, the same results as linear",
                               execution.get("mode") == "bundles" and len(set(oks.values())) == 1,
                               f"{execution.get('mode')} ({execution.get('why')}); "
                               + " ".join(f"{m} ok={ok}" for m, ok in oks.items())))
    return out or [judged(3, "default strategy for the bench play", None, 0, False)]


def per_host_task(row: dict) -> float:
    return 1000 * row["controller_cpu"] / (row["hosts"] * row["tasks"])


def simulated(figures: dict) -> list[dict]:
    """4: the simulated fleet with bundles, at its smallest and largest size.
    "Flat" is judged one way: a cost per host that falls with more hosts meets it."""
    sim = sorted((r for r in figures.get("simulated", []) if r["mode"] == "bundles"), key=lambda r: r["hosts"])
    if not sim:
        return [judged(4, "simulated hosts x 10, bundles", None, 0, True)]
    first, last = sim[0], sim[-1]
    out = [judged(4, f"{last['hosts']:,} simulated hosts x {last['tasks']}, bundles: wall <= 60 s",
                  last["wall"], 60, True, f"{last['wall']:.1f} s")]
    out += [judged(4, f"controller CPU per host-task, {row['hosts']:,} simulated hosts, bundles: <= 0.2 ms",
                   per_host_task(row), 0.2, True, f"{per_host_task(row):.2f} ms") for row in sim]
    if last is first:
        return out
    span = f"{first['hosts']:,} to {last['hosts']:,} simulated hosts"
    for text, of in (("controller CPU per host-task", per_host_task),
                     ("controller peak RSS per host", lambda r: r["controller_rss_mb"] / r["hosts"]),
                     ("Redis memory per host (peak above the level before the run)",
                      lambda r: r["redis_growth_mb"] / r["hosts"])):
        text = f"{text}, {span}: flat (at most 1.2x)"
        if not of(first):
            out.append(noted(4, text, f"none measured at {first['hosts']} hosts, {of(last):.4g} at {last['hosts']}"))
            continue
        growth = of(last) / of(first)
        out.append(judged(4, text, growth, 1.2, True, f"{growth:.2f}x ({of(first):.4g} -> {of(last):.4g})"))
    return out


def memory(figures: dict) -> list[dict]:
    """5: the controller at the largest simulated fleet; the long loop (bench/loop.py)."""
    out = []
    sim = [r for r in figures.get("simulated", []) if r["mode"] == "bundles"]
    if sim:
        last = max(sim, key=lambda r: r["hosts"])
        out.append(judged(5, f"controller peak RSS, {last['hosts']:,} simulated hosts: <= 1 GB",
                          last["controller_rss_mb"], 1024, True, f"{last['controller_rss_mb']:.0f} MB"))
    for row in figures.get("loop", []):
        for key, name, goal in (("controller_rss_mb", "controller peak RSS", 300),
                                ("redis_peak_mb", "Redis used_memory_peak", 200)):
            text = f"{row['items']:,}-item loop, {row['strategy']}: {name} <= {goal} MB"
            if row["rc"]:
                out.append(checked(5, text, False, f"{row[key]:.0f} MB, but the run failed (rc {row['rc']})"))
            else:
                out.append(judged(5, text, row[key], goal, True, f"{row[key]:.0f} MB"))
    if "loop" not in figures:
        out.append(judged(5, "a long loop on one host", None, 0, True))
    return out


def security(figures: dict, opts) -> list[dict]:
    """6: every celeryroot figure taken with the envelope on (run with
    --pki: it signs and seals every message), and its per-message cost."""
    ours = [r for key in comparisons(opts) for r in figures.get(key, []) if "signed" in r]
    ours += figures.get("scaling", [])
    out = []
    if ours:
        signed = sum(r["signed"] for r in ours)
        out.append(checked(6, "signing and encryption on in every celeryroot figure here (--pki)",
                           signed == len(ours),
                           f"{signed} of {len(ours)} signed and sealed (the simulator's and the loop's always are)"))
    else:
        out.append(judged(6, "signing and encryption on in the celeryroot figures", None, 0, True))
    for name, row in figures.get("seal", {}).items():
        out.append(noted(6, f"the envelope's CPU per {name} message", f"controller {row['controller_ms']:.3f} ms, "
                         f"host {row['host_ms']:.3f} ms ({row['payload_kib']:.1f} KiB)"))
    return out


def workers(figures: dict, opts) -> list[dict]:
    """7: one worker's start, idle memory and stop; the largest real fleet, default strategy."""
    out = []
    for key, text, unit, goal in (("worker_ready", "worker spawn to ready (heartbeat + consuming)", "s", 1),
                                  ("idle_rss_mb", "worker idle RSS", "MB", 50),
                                  ("worker_stop", "idle worker SIGTERM to exit", "s", 1)):
        got = figures.get(key)
        out.append(judged(7, f"{text}: <= {goal} {unit}", got, goal, True, f"{got:.2f} {unit}" if got else ""))
    fleet = [r for r in figures.get("scaling", []) if r["mode"] == "default"]
    last = max(fleet, key=lambda r: r["hosts"], default=None)
    hosts = last["hosts"] if last else max(opts.scale)
    text = f"{hosts} real workers x {opts.scale_tasks}, default strategy: wall <= 2 s"
    out.append(judged(7, text, last["wall"] if last else None, 2, True, f"{last['wall']:.2f} s" if last else ""))
    return out
