#!/usr/bin/env python3
"""Start-up figures of the controller and of a worker (issue 15, items 1 and 7).

    .venv/bin/python bench/startup.py [--runs 7] [--commit REV]

Runs in any virtualenv that has celeryroot installed (no peers needed):
a private redis-server, one real worker, the 1-host x 50-task no-op play
of bench/run.py. Prints, medians of ``--runs``:

* the whole ``celeryroot-play`` wall (and own CPU), linear and bundles;
* its imports (``-X importtime``, beyond a bare interpreter's);
* a worker's spawn to ready (heartbeat key) and its CPU by then, idle RSS,
  SIGTERM to exit;
* the Redis connections a worker holds, idle after its start and once it
  has run the plays (CLIENT LIST entries named for its host; before
  workers named them, those that came with it on a broker nothing else
  uses).

celeryroot's bytecode is written first, as pip does for an installed
package. Nothing here asserts on timing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import lab  # noqa: E402
from run import import_seconds, precompile, use_revision  # noqa: E402

HOST_PREFIX = "celeryroot.host."  # config.HOST_PREFIX, which names a worker's connections


def controller(workdir: Path, redis, runs: int, tasks: int) -> dict:
    """The 1 x ``tasks`` no-op play, warm, both ways; and its import time."""
    playbook = lab.write_playbook(workdir / f"play-{tasks}.yaml", tasks)
    inventory = lab.write_inventory(workdir / "inventory.yaml", ["h0000"], workdir / "root")
    argv = lab.play_argv(playbook, inventory, redis.url)
    cwd = lab.mode_dirs(workdir)
    bare = lab.median([import_seconds(lab.timed([sys.executable, "-X", "importtime", "-c", "pass"]))
                       for _ in range(3)])
    figures = {}
    for mode in lab.MODES:
        lab.play_stats(lab.timed(argv, cwd=cwd[mode]))  # converge
        walls, cpus, imports = [], [], []
        for _ in range(runs):
            run = lab.timed(argv, cwd=cwd[mode])
            stats = lab.play_stats(run)
            if stats.get("changed") or stats.get("failed") or stats.get("unreachable"):
                raise RuntimeError(f"{mode}: a warm run is not a no-op: {stats}")
            walls.append(run.wall)
            cpus.append(run.cpu)
        for _ in range(3):
            timed = lab.timed([sys.executable, "-X", "importtime", "-m", "celeryroot.cli.play", *argv[1:]],
                              cwd=cwd[mode])
            imports.append(import_seconds(timed) - bare)
        figures[mode] = {"wall": lab.median(walls), "cpu": lab.median(cpus), "imports": lab.median(imports),
                         "walls": walls}
    return figures


def connections(redis) -> dict[int, str]:
    return {client["id"]: client["name"] for client in redis.client.client_list()}


def held(redis, host: str, before: dict[int, str]) -> int:
    """How many connections ``host``'s worker holds: those named for it, or
    (a revision whose workers name none) those that are new since ``before``."""
    now = connections(redis)
    named = [i for i, name in now.items() if name == HOST_PREFIX + host]
    return len(named) if named else len(set(now) - set(before))


def worker(workdir: Path, redis, runs: int) -> dict:
    """Spawn to ready, idle RSS and connections, SIGTERM to exit, one worker at a time."""
    workers = lab.workers(redis, lab.fresh_dir(workdir / "logs"))
    workers.client.ping()  # the bench's own connection, before any count
    ready, cpu, rss, conns, stop = [], [], [], [], []
    try:
        for i in range(runs):
            host = f"life{i}"
            before = connections(redis)
            ready += workers.start(host, timeout=60).values()
            cpu.append(lab.proc_cpu(workers.procs[host].pid))
            time.sleep(1.0)  # idle: past its first beats and BRPOPs
            rss.append(lab.proc_rss_mb(workers.procs[host].pid))
            conns.append(held(redis, host, before))
            stop += workers.stop([host]).values()
    finally:
        workers.stop()
    return {"ready": lab.median(ready), "ready_max": max(ready), "ready_cpu": lab.median(cpu), "rss_mb": lab.median(rss),
            "connections": max(conns), "stop": lab.median(stop), "stop_max": max(stop)}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=7, help="warm runs (and worker starts) per figure")
    p.add_argument("--tasks", type=int, default=50, help="tasks of the one-host play")
    p.add_argument("--commit", default=None, help="measure celeryroot as of this git revision")
    opts = p.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="celeryroot-startup-"))
    if opts.commit:
        use_revision(opts.commit, workdir / "src")
    precompile()
    redis = lab.start_redis(workdir)
    workers = lab.workers(redis, lab.fresh_dir(workdir / "play-logs"))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; work in {workdir}", flush=True)
    try:
        workers.client.ping()
        before = connections(redis)
        workers.start("h0000", timeout=60)
        play = controller(workdir, redis, opts.runs, opts.tasks)
        busy = held(redis, "h0000", before)
        workers.stop()
        life = worker(workdir, redis, opts.runs)
    finally:
        workers.stop()
        redis.stop()
    for mode, row in play.items():
        print(f"controller 1 x {opts.tasks} {mode:<7}: wall {1000 * row['wall']:4.0f} ms "
              f"(runs {' '.join(f'{1000 * w:.0f}' for w in row['walls'])}), own CPU {1000 * row['cpu']:.0f} ms, "
              f"imports {1000 * row['imports']:.0f} ms")
    print(f"worker: spawn to ready {life['ready']:.2f} s (max {life['ready_max']:.2f}; "
          f"{life['ready_cpu']:.2f} s CPU), idle RSS "
          f"{life['rss_mb']:.1f} MB, SIGTERM to exit {life['stop']:.2f} s (max {life['stop_max']:.2f}), "
          f"Redis connections held {life['connections']} idle, {busy} after the plays")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
