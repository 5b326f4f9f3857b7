#!/usr/bin/env python3
"""The benchmark: celeryroot against ansible-playbook and pyinfra, no-op plays.

    python3 bench/run.py            # the full run (about 15-20 minutes on 2 cores)
    python3 bench/run.py --quick    # a smoke run (about 1-2 minutes)
    python3 bench/run.py --only profiles --commit HEAD~3   # one section, an older revision
    python3 bench/run.py --only workers                     # worker start/stop only (no ansible, no pyinfra)
    python3 bench/run.py --only sim --sim 1000 10000        # the simulated fleet only

It installs what it needs itself: redis-server with apt-get if missing, and
a virtualenv at bench/.venv holding ansible-core, pyinfra and py-spy
(bench/requirements-peers.txt) and this checkout of celeryroot (editable).
It prints figures and never judges them: timing is not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV = HERE / ".venv"
PEERS = HERE / "requirements-peers.txt"
#: Every celeryroot figure of the comparisons and the scaling: as celeryroot
#: chooses (lab.DEFAULT), and each way forced (lab.MODES).
RUN_MODES = ("default", "linear", "bundles")


# -- setting up ---------------------------------------------------------------

def bootstrap(argv: list[str], peers: bool) -> None:
    """Install what the benchmark needs (the peers only if ``peers``), then
    re-run it inside bench/.venv."""
    if not shutil.which("redis-server"):
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "redis-server"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    tools = ("ansible-playbook", "pyinfra", "py-spy", "celeryroot-play") if peers else ("celeryroot-play",)
    if not all((VENV / "bin" / name).exists() for name in tools):
        pip = [str(python), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, *(["-r", str(PEERS)] if peers else []), "-e", str(REPO)], check=True)
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), *argv])


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


# -- the peers ----------------------------------------------------------------

RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
PYINFRA_TOTAL = re.compile(r"Grand total\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)")


def ansible_env(workdir: Path) -> dict:
    home = workdir / "ansible-home"
    return {**os.environ, "ANSIBLE_HOME": str(home), "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
            "ANSIBLE_REMOTE_TEMP": str(home / "remote-tmp"), "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_DEPRECATION_WARNINGS": "0"}


def ansible_counts(run) -> dict[str, int]:
    rows = RECAP.findall(run.stdout)
    if run.rc != 0 or not rows:
        raise RuntimeError(f"ansible-playbook failed (rc {run.rc}): {run.stdout[-1500:]} {run.stderr[-1500:]}")
    return {"ok": sum(int(r[1]) for r in rows), "changed": sum(int(r[2]) for r in rows),
            "failed": sum(int(r[4]) + int(r[3]) for r in rows)}


def pyinfra_counts(run) -> dict[str, int]:
    found = PYINFRA_TOTAL.search(run.stdout + run.stderr)
    if run.rc != 0 or not found:
        raise RuntimeError(f"pyinfra failed (rc {run.rc}): {run.stdout[-1500:]} {run.stderr[-1500:]}")
    number = lambda s: 0 if s == "-" else int(s)  # noqa: E731 - pyinfra prints '-' for none
    return {"ok": number(found.group(2)) + number(found.group(4)), "changed": number(found.group(2)),
            "failed": number(found.group(3))}


# -- the benchmark --------------------------------------------------------------

class Bench:
    def __init__(self, opts, workdir: Path):
        import lab

        self.lab = lab
        self.opts = opts
        self.workdir = workdir
        self.figures: dict = {"machine": machine()}
        self.redis = lab.start_redis(workdir)
        self.cwd = lab.mode_dirs(workdir)
        self.workers = lab.workers(self.redis, lab.fresh_dir(workdir / "logs"))

    def say(self, text: str = "") -> None:
        if text.startswith("\n=="):
            # The machine may be shared: other load inflates wall times far
            # more than CPU times, so every section says what it ran beside.
            text += f" [load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores]"
        print(text, flush=True)

    # Each tool: one converging run, then the measured warm runs, each of
    # which must report changed=0 or the figure would not be a no-op's.
    def measure(self, tool: str, argv: list[str], counts, runs: int, env=None, cwd: Path | None = None) -> dict:
        lab = self.lab
        cwd = cwd or self.workdir
        first = lab.timed(argv, env=env, cwd=cwd)
        counts(first)
        walls, cpus = [], []
        for _ in range(runs):
            run = lab.timed(argv, env=env, cwd=cwd)
            got = counts(run)
            if got["changed"] or got["failed"] or got.get("unreachable"):
                raise RuntimeError(f"{tool}: a warm run is not a no-op: {got}")
            walls.append(run.wall)
            cpus.append(run.cpu)
        return {"tool": tool, "wall": lab.median(walls), "cpu": lab.median(cpus), "runs": walls,
                "first": first.wall, "ok": got["ok"]}

    def celeryroot(self, hosts: list[str], tasks: int, runs: int, label: str, mode: str) -> dict:
        """One play in one mode (lab.MODES): the same playbook, inventory and
        directories either way; only celeryroot-play's working directory
        (and so its celeryroot.yaml) differs."""
        lab = self.lab
        playbook = lab.write_playbook(self.workdir / f"play-{tasks}.yaml", tasks)
        inventory = lab.write_inventory(self.workdir / f"cr-{label}.yaml", hosts, self.workdir / "celeryroot")
        argv = lab.play_argv(playbook, inventory, self.redis.url)
        pids = self.workers.pids(hosts)
        workers_before, redis_before = sum(map(lab.proc_cpu, pids)), self.redis.cpu()
        executions = []

        def counts(run):
            executions.append(lab.play_execution(run))
            return lab.play_stats(run)

        row = self.measure(f"celeryroot {mode}", argv, counts, runs, cwd=self.cwd[mode])
        # How the play ran, as --json says, and whether the envelope was on
        # (it signs and seals every message of a run given --pki).
        row.update(mode=mode, execution=executions[-1], signed="--pki" in argv)
        # Worker and Redis CPU cover the converging run too: divide by all runs.
        total_runs = runs + 1
        row["worker_cpu"] = (sum(map(lab.proc_cpu, pids)) - workers_before) / total_runs
        row["redis_cpu"] = (self.redis.cpu() - redis_before) / total_runs
        row["per_host_task_ms"] = 1000 * row["cpu"] / (len(hosts) * tasks)
        return row

    def ansible(self, hosts: list[str], tasks: int, runs: int, label: str) -> dict:
        lab = self.lab
        playbook = lab.write_playbook(self.workdir / f"play-{tasks}.yaml", tasks)
        inventory = lab.write_inventory(self.workdir / f"ansible-{label}.yaml", hosts, self.workdir / "ansible",
                                        {"ansible_connection": "local", "ansible_python_interpreter": sys.executable})
        argv = [str(lab.BIN / "ansible-playbook"), "-i", str(inventory), str(playbook), "-f", "20"]
        return self.measure("ansible-playbook", argv, ansible_counts, runs, ansible_env(self.workdir))

    def pyinfra(self, tasks: int, runs: int) -> dict:
        lab = self.lab
        deploy = lab.write_pyinfra_deploy(self.workdir / f"deploy-{tasks}.py", tasks)
        argv = [str(lab.BIN / "pyinfra"), "@local", str(deploy), "--data", f"root={self.workdir / 'pyinfra'}", "-y"]
        return self.measure("pyinfra", argv, pyinfra_counts, runs)

    # -- sections ---------------------------------------------------------------

    def cli_startup(self) -> None:
        lab = self.lab
        runs = [lab.timed([str(lab.BIN / "celeryroot-play"), "--help"]) for _ in range(self.opts.runs + 2)]
        wall = lab.median([r.wall for r in runs])
        self.figures["cli_help"] = wall
        self.say(f"CLI start-up (celeryroot-play --help): median {wall * 1000:.0f} ms over {len(runs)} runs")

    def fleet(self) -> None:
        lab = self.lab
        cold = [self.workers.start(f"cold{i}", timeout=300)[f"cold{i}"] for i in range(3)]
        self.workers.stop([f"cold{i}" for i in range(3)])
        self.figures["cold_start"] = lab.median(cold)
        self.say(f"worker cold start (spawn to heartbeat key, one at a time): median {lab.median(cold):.2f} s "
                 f"({', '.join(f'{c:.2f}' for c in cold)})")
        self.start_workers(self.opts.fleet_hosts)
        rss = [lab.proc_rss_mb(p) for p in self.workers.pids()]
        self.figures["idle_rss_mb"] = lab.median(rss)
        self.say(f"worker idle RSS after start: median {lab.median(rss):.1f} MB (max {max(rss):.1f} MB)")

    def lifecycle(self) -> None:
        """Issue 9's figures: how soon a worker is ready, how soon an idle one
        stops. Ready is its heartbeat key, set once it consumes its queue
        (celeryroot/agent.py); stop is SIGTERM to exit. One at a time on an
        idle broker, then ``--crowd`` workers started and stopped at once."""
        lab = self.lab
        count, crowd = self.opts.runs + 2, self.opts.crowd
        self.say(f"\n== worker start and stop ({count} one at a time, then {crowd} at once) ==")
        precompile()
        ready, cpu, stop = [], [], []
        for i in range(count):
            host = f"life{i}"
            ready += self.workers.start(host, timeout=300).values()
            cpu.append(lab.proc_cpu(self.workers.procs[host].pid))
            time.sleep(0.2 + 0.8 * i / count)  # SIGTERM at different points of the 0.5 s BRPOP
            stop += self.workers.stop([host]).values()
        self.say(f"  one worker, spawn to ready: median {lab.median(ready):.2f} s (max {max(ready):.2f}), "
                 f"{lab.median(cpu):.2f} s CPU")
        self.say(f"  one idle worker, SIGTERM to exit: median {lab.median(stop):.2f} s (max {max(stop):.2f})")
        hosts = lab.host_names("crowd", crowd)
        started = time.monotonic()
        crowd_ready = self.workers.start(*hosts, timeout=300)
        all_ready = time.monotonic() - started
        time.sleep(1)
        crowd_stop = self.workers.stop(hosts)
        self.say(f"  {crowd} workers at once: all ready after {all_ready:.1f} s (median {lab.median(list(crowd_ready.values())):.1f} s); "
                 f"SIGTERM to all: all exited after {max(crowd_stop.values()):.1f} s "
                 f"({len(crowd_stop)}/{crowd} within 15 s) on {os.cpu_count()} cores")
        self.figures["worker_lifecycle"] = {
            "ready": ready, "ready_cpu": cpu, "stop": stop, "crowd": crowd,
            "crowd_all_ready": all_ready, "crowd_all_stopped": max(crowd_stop.values())}
        self.figures["worker_ready"], self.figures["worker_stop"] = lab.median(ready), lab.median(stop)

    def start_workers(self, count: int) -> None:
        """Have workers h0000.. up to ``count``: only those a figure needs run,
        so idle workers' polling and heartbeats do not weigh on the others."""
        lab = self.lab
        new = [h for h in lab.host_names("h", count) if h not in self.workers.procs]
        if not new:
            return
        started = time.monotonic()
        ready = self.workers.start(*new, timeout=300)
        self.say(f"{len(new)} workers started in parallel: all heartbeating after "
                 f"{time.monotonic() - started:.1f} s (median per worker {lab.median(list(ready.values())):.1f} s "
                 f"on {os.cpu_count()} cores)")

    def comparison(self, hosts: int, tasks: int) -> None:
        names = self.lab.host_names("h", hosts)
        self.say(f"\n== {tasks} no-op tasks on {hosts} host(s) (warm; median of the warm runs) ==")
        self.start_workers(hosts)
        ours = [self.celeryroot(names, tasks, self.opts.runs, f"{hosts}x{tasks}", mode) for mode in RUN_MODES]
        for row in ours:
            self.say(self.line(row, hosts, tasks))
        peers = []
        if not self.opts.no_peers:
            peers.append(self.ansible(names, tasks, self.opts.peer_runs, f"{hosts}x{tasks}"))
            self.say(self.line(peers[-1], hosts, tasks))
            if hosts == 1:
                peers.append(self.pyinfra(tasks, self.opts.peer_runs))
                self.say(self.line(peers[-1], hosts, tasks))
            else:
                self.say("  pyinfra: not run; @local is one host, and there is no equivalent of 20 local hosts")
        for peer in peers:
            for row in ours:
                ratio = peer["wall"] / row["wall"]
                self.say(f"  {peer['tool']} / {row['tool']} wall: {ratio:.1f}x "
                         f"({'celeryroot faster' if ratio > 1 else 'celeryroot slower'})")
        self.figures[f"compare_{hosts}x{tasks}"] = ours + peers

    def line(self, row: dict, hosts: int, tasks: int) -> str:
        text = (f"  {row['tool']:<19} wall {row['wall']:7.2f} s  ({1000 * row['wall'] / tasks:6.1f} ms per task, "
                f"runs {' '.join(f'{w:.2f}' for w in row['runs'])}; converging run {row['first']:.2f} s), "
                f"own CPU {row['cpu']:.2f} s")
        if "worker_cpu" in row:
            text += (f"\n  {'':<19} controller CPU {row['per_host_task_ms']:.2f} ms per host-task; per run: workers "
                     f"{row['worker_cpu']:.2f} s CPU, Redis {row['redis_cpu']:.2f} s CPU; ran as "
                     f"{row['execution'].get('mode')} ({row['execution'].get('why')})")
        return text

    def scaling(self) -> None:
        tasks = self.opts.scale_tasks
        self.say(f"\n== scaling: {tasks} no-op tasks over {', '.join(map(str, self.opts.scale))} hosts "
                 f"(real workers), {', '.join(RUN_MODES)} ==")
        rows = []
        for count in self.opts.scale:
            self.start_workers(count)
            for mode in RUN_MODES:
                row = self.celeryroot(self.lab.host_names("h", count), tasks, self.opts.runs, f"scale{count}", mode)
                row["hosts"] = count
                rows.append(row)
                self.say(f"  {count:>4} hosts, {mode:<7}: wall {row['wall']:6.2f} s, controller CPU {row['cpu']:6.2f} s "
                         f"({row['per_host_task_ms']:.2f} ms per host-task), workers {row['worker_cpu']:6.2f} s, "
                         f"Redis {row['redis_cpu']:.2f} s")
        self.figures["scaling"] = rows
        for mode in RUN_MODES:
            mine = [r for r in rows if r["mode"] == mode]
            first, last = mine[0], mine[-1]
            extra = (last["hosts"] - first["hosts"]) * tasks
            if extra:
                self.say(f"  {mode}: marginal cost of a host-task ({first['hosts']} to {last['hosts']} hosts): "
                         f"controller CPU {1000 * (last['cpu'] - first['cpu']) / extra:.2f} ms, wall "
                         f"{1000 * (last['wall'] - first['wall']) / extra:.2f} ms, worker CPU "
                         f"{1000 * (last['worker_cpu'] - first['worker_cpu']) / extra:.2f} ms, Redis CPU "
                         f"{1000 * (last['redis_cpu'] - first['redis_cpu']) / extra:.2f} ms")
        rss = [self.lab.proc_rss_mb(p) for p in self.workers.pids()]
        self.figures["busy_rss_mb"] = self.lab.median(rss)
        self.say(f"worker RSS after the runs: median {self.lab.median(rss):.1f} MB (max {max(rss):.1f} MB)")
        pids, window = self.workers.pids(), 5.0
        before = sum(map(self.lab.proc_cpu, pids))
        time.sleep(window)
        idle = (sum(map(self.lab.proc_cpu, pids)) - before) / window / len(pids)
        self.figures["idle_worker_cpu_ms_per_s"] = 1000 * idle
        self.say(f"an idle worker's own CPU (polling, heartbeat): {1000 * idle:.2f} ms per second "
                 f"({len(pids)} idle workers: {100 * idle * len(pids):.1f} % of a core)")

    def profiles(self) -> None:
        """cProfile of the controller on two plays in both modes; the top
        costs, and where the files are."""
        lab = self.lab
        self.say("\n== controller profiles (cProfile; sorted by own time) ==")
        for hosts, tasks in ((1, self.opts.big), (max(self.opts.scale), self.opts.scale_tasks)):
            self.start_workers(hosts)
            names = lab.host_names("h", hosts)
            playbook = lab.write_playbook(self.workdir / f"play-{tasks}.yaml", tasks)
            inventory = lab.write_inventory(self.workdir / f"profile-{hosts}.yaml", names, self.workdir / "celeryroot")
            for mode in lab.MODES:
                out = self.opts.results / f"controller-{hosts}x{tasks}-{mode}.pstats"
                argv = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "celeryroot.cli.play",
                        *lab.play_argv(playbook, inventory, self.redis.url)[1:]]
                lab.timed(argv, cwd=self.cwd[mode])  # converge, so the profile is of a warm run
                run = lab.timed(argv, cwd=self.cwd[mode])
                stats = lab.play_stats(run)
                if stats["changed"] or stats["failed"] or stats["unreachable"]:
                    self.say(f"!! the profiled run was not a clean no-op ({stats}): the profile is of the wrong thing")
                self.say(f"-- {hosts} host(s) x {tasks} tasks, {mode}: wall {run.wall:.2f} s under cProfile; {out}")
                self.say(phases(out, run.cpu))
                self.say(top_costs(out, self.opts.top))
            if hosts == 1:
                self.startup_share(playbook, inventory, tasks)

    def startup_share(self, playbook: Path, inventory: Path, tasks: int) -> None:
        """How much of a one-host run is Python starting and importing, and how
        much is the run itself: the wall of ``python -c pass``; the run's own
        imports by ``-X importtime`` (beyond a bare interpreter's); the rest of
        the same runs' wall time is the run itself."""
        lab = self.lab
        repeat = max(3, self.opts.runs)
        start = lab.median([lab.timed([sys.executable, "-c", "pass"]).wall for _ in range(repeat)])
        bare_imports = lab.median([import_seconds(lab.timed([sys.executable, "-X", "importtime", "-c", "pass"]))
                                   for _ in range(repeat)])
        self.say(f"-- where a 1-host x {tasks} run's wall time goes (no profiler; -X importtime; medians of {repeat}):")
        shares = {"interpreter": start}
        for mode in lab.MODES:
            argv = [sys.executable, "-X", "importtime", "-m", "celeryroot.cli.play",
                    *lab.play_argv(playbook, inventory, self.redis.url)[1:]]
            runs = [lab.timed(argv, cwd=self.cwd[mode]) for _ in range(repeat)]
            wall = lab.median([r.wall for r in runs])
            imports = lab.median([import_seconds(r) for r in runs]) - bare_imports
            rest = wall - start - imports
            shares[mode] = {"wall": wall, "imports": imports, "run": rest}
            self.say(f"     {mode:<7}: wall {1000 * wall:4.0f} ms = interpreter start {1000 * start:.0f} ms "
                     f"+ celeryroot's imports {1000 * imports:.0f} ms + the run itself {1000 * rest:.0f} ms")
        self.figures[f"startup_share_1x{tasks}"] = shares

    def simulated(self) -> None:
        import simulate

        self.say(f"\n== simulated hosts x {self.opts.sim_tasks} tasks, {', '.join(self.opts.sim_modes)} "
                 f"(bench/simulate.py, {self.opts.sim_procs} simulator process(es)) ==")
        self.figures["simulated"] = simulate.measure(self.opts.sim, self.opts.sim_tasks, 1, self.opts.sim_procs,
                                                     self.lab.fresh_dir(self.workdir / "sim"),
                                                     modes=self.opts.sim_modes, out=self.say)

    def loop(self) -> None:
        """Issue 15's target 5: one task over a long loop (bench/loop.py), by default and linear."""
        import loop

        self.say(f"\n== one host, one task looping over {self.opts.loop_items:,} items (bench/loop.py) ==")
        rows = []
        for strategy in (None, "linear"):
            rows.append(loop.measure(self.opts.loop_items, strategy))
            self.say("  " + loop.describe(rows[-1]))
        self.figures["loop"] = rows

    def seal(self) -> None:
        """What the envelope costs per message (bench/seal.py)."""
        import seal

        self.say(f"\n== CPU per message of the envelope (bench/seal.py, median of 5 rounds of "
                 f"{self.opts.seal_count}) ==")
        self.figures["seal"] = seal.costs(self.opts.seal_count)
        for name, row in self.figures["seal"].items():
            self.say("  " + seal.describe(name, row))

    def targets(self) -> None:
        """Issue 15's targets against what this run measured (bench/targets.py)."""
        import targets

        self.say("\n== targets (issue 15) ==" + (" (--quick: smaller sizes than the targets', indicative only)"
                                               if self.opts.quick else ""))
        self.figures["targets"] = targets.rows(self.figures, self.opts)
        for row in self.figures["targets"]:
            self.say(targets.line(row))

    def close(self) -> None:
        self.workers.stop()
        self.redis.stop()


#: Where a controller run spends its time: (label, file suffix, function).
PHASES = (
    ("imports (all modules, whole run)", "<frozen importlib._bootstrap>", "_find_and_load"),
    ("config + registry (module classes)", "registry.py", "classes"),
    ("playbook parse", "playbook.py", "load_playbook"),
    ("inventory load", "inventory.py", "load"),
    ("preflight (validate every task)", "preflight.py", "preflight"),
    ("broker connection set-up", "dispatch.py", "__enter__"),
    ("strategy: whole run", "strategy.py", "run"),
    ("  bundles: the play batch, sent and answered", "controller/bundles.py", "run_on"),
    ("    bundle: shared part (encode play, sources)", "controller/bundles.py", "_common"),
    ("    bundle: per host", "controller/bundles.py", "_bundle"),
    ("    bundle: progress events", "controller/bundles.py", "_progress"),
    ("    bundle: final answers merged", "controller/bundles.py", "_merge"),
    ("  dispatch.step (send, wait, interpret)", "dispatch.py", "step"),
    ("  step.prepare (when, loop, render, args)", "step.py", "prepare"),
    ("    templating.render", "templating.py", "render"),
    ("  step.finish (judge, register)", "step.py", "finish"),
    ("  dispatch: publish_task (all messages)", "messages.py", "publish_task"),
    ("  dispatch: drain_events (waiting + decoding)", "connection.py", "drain_events"),
    ("  dispatch: liveness MGET", "liveness.py", "live"),
    ("  report: host_result", "json.py", "host_result"),
    ("JSON report output", "json.py", "recap"),
)


def phases(pstats_file: Path, cpu: float) -> str:
    """Cumulative time of the controller's phases (cProfile counts a
    recursive function once, at its outermost call)."""
    import pstats

    stats = pstats.Stats(str(pstats_file)).stats
    lines = [f"   phases (cumulative seconds; the run used {cpu:.2f} s CPU under the profiler):"]
    for label, suffix, name in PHASES:
        found = [(v[1], v[3]) for (file, _, func), v in stats.items() if func == name and file.endswith(suffix)]
        if found:
            calls, seconds = max(found, key=lambda f: f[1])
            lines.append(f"     {label:<48} {seconds:7.3f} s  ({calls} calls)")
    return "\n".join(lines)


def import_seconds(run) -> float:
    """Seconds a process spent importing, from its ``-X importtime`` lines:
    the cumulative time of each top-level import."""
    total = 0
    for line in run.stderr.splitlines():
        if line.startswith("import time:") and not line.startswith("import time: self"):
            _, cumulative, name = line[len("import time:"):].split("|")
            if not name[1:].startswith(" "):
                total += int(cumulative)
    return total / 1e6


def top_costs(pstats_file: Path, count: int) -> str:
    import io
    import pstats

    buf = io.StringIO()
    stats = pstats.Stats(str(pstats_file), stream=buf)
    stats.strip_dirs().sort_stats("tottime").print_stats(count)
    lines = buf.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    total = next((line.strip() for line in lines if "function calls" in line), "")
    return "\n".join(["   " + total, *("   " + line for line in lines[start:] if line.strip())])


def precompile() -> None:
    """Write celeryroot's bytecode, as pip does when it installs a worker:
    with the editable install (and PYTHONDONTWRITEBYTECODE, set on some
    machines) every worker would compile celeryroot's sources as it starts."""
    import celeryroot

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(celeryroot.__file__).parent)], check=True)


def use_revision(revision: str, src: Path) -> None:
    """Put celeryroot as of ``revision`` first on the path of this process and
    of every process it starts (PYTHONPATH wins over the editable install)."""
    import lab

    lab.export_revision(revision, src)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")]))
    sys.path.insert(0, str(src))


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    mem = Path("/proc/meminfo").read_text().split()[1]
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(int(mem) / 2**20, 1),
            "python": sys.version.split()[0], "date": time.strftime("%Y-%m-%d")}


SECTIONS = ("startup", "workers", "compare", "scaling", "profiles", "sim", "loop", "seal")
#: Sections that need neither ansible-playbook nor pyinfra.
OWN_SECTIONS = {"startup", "workers", "sim", "loop", "seal"}


def options(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a smoke run: small plays, one warm run each")
    p.add_argument("--runs", type=int, default=5, help="warm celeryroot runs per figure (default 5)")
    p.add_argument("--peer-runs", type=int, default=3, help="warm ansible/pyinfra runs per figure (default 3)")
    p.add_argument("--no-peers", action="store_true", help="skip ansible-playbook and pyinfra")
    p.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS),
                   help="run only these sections (default: all)")
    p.add_argument("--sim", type=int, nargs="+", default=[1000, 10000],
                   help="simulated host counts (default 1000 10000)")
    p.add_argument("--sim-procs", type=int, default=1, help="simulator processes (default 1)")
    p.add_argument("--sim-modes", nargs="+", choices=("linear", "bundles"), default=["bundles"],
                   help="how the simulated plays run (default: bundles, as issue 15's target 4 says)")
    p.add_argument("--loop-items", type=int, default=1_000_000, help="items of the long loop (default 1,000,000)")
    p.add_argument("--crowd", type=int, default=30, help="workers started at once in the workers section (default 30)")
    p.add_argument("--top", type=int, default=20, help="lines of each profile to print")
    p.add_argument("--results", type=Path, default=HERE / "results", help="where figures and profiles go")
    p.add_argument("--commit", default=None,
                   help="measure celeryroot as of this git revision (default: the working tree)")
    opts = p.parse_args(argv)
    opts.big, opts.small = (50, 10)
    opts.fleet_hosts, opts.scale, opts.scale_tasks, opts.sim_tasks = 20, [1, 10, 50, 100], 20, 10
    opts.seal_count = 2000
    if opts.quick:
        opts.runs, opts.peer_runs, opts.sim, opts.loop_items, opts.seal_count = 1, 1, [100, 400], 10_000, 200
        opts.big, opts.small, opts.fleet_hosts, opts.scale, opts.scale_tasks = 10, 5, 3, [1, 5], 5
        opts.top = 10
    return opts


def main(argv: list[str]) -> int:
    opts = options(argv)
    if not in_venv():
        bootstrap(argv, peers=not opts.no_peers and not set(opts.only) <= OWN_SECTIONS)
    sys.path.insert(0, str(HERE))
    opts.results.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="celeryroot-bench-"))
    if opts.commit:
        use_revision(opts.commit, workdir / "src")
    bench = Bench(opts, workdir)
    bench.say(f"celeryroot benchmark on {bench.figures['machine']}; work in {workdir}")
    sections = {"startup": [bench.cli_startup, bench.fleet], "workers": [bench.lifecycle],
                "compare": [lambda: bench.comparison(1, opts.big),
                            lambda: bench.comparison(opts.fleet_hosts, opts.small)],
                "scaling": [bench.scaling], "profiles": [bench.profiles]}
    try:
        for name, steps in sections.items():
            if name in opts.only:
                for step in steps:
                    step()
    finally:
        bench.close()
    # These start their own Redis and workers (or simulated hosts).
    for name, step in (("sim", bench.simulated), ("loop", bench.loop), ("seal", bench.seal)):
        if name in opts.only:
            step()
    bench.targets()
    kind = "quick" if opts.quick else "latest" if set(opts.only) == set(SECTIONS) else "partial"
    out = opts.results / f"{kind}.json"
    out.write_text(json.dumps(bench.figures, indent=1, default=str))
    bench.say(f"\nfigures: {out}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
