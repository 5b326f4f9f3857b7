#!/usr/bin/env python3
"""One host, one task looping over many items (issue 15, target 5): the
controller's peak RSS, Redis's used_memory_peak, the worker's peak RSS and
the wall time, with a real redis-server and a real worker.

    .venv/bin/python bench/loop.py --items 1000000
    .venv/bin/python bench/loop.py --items 100000 --strategy linear

Each item is ``file: path=DIR state=directory`` on one existing directory,
over ``with_sequence``: a module the worker runs (debug would run on the
controller) that costs one stat, so the figures are the loop's own. It
prints figures and never judges them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lab import play_argv, start_redis, timed, workers  # noqa: E402


def peak_rss_mb(pid: int) -> float:
    """A live process's peak resident memory so far (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(items: int, strategy: str | None = None) -> dict:
    """One run of the loop play with ``items`` items (``strategy``: as
    ``--strategy`` says, None for the default): its figures."""
    with tempfile.TemporaryDirectory(prefix="celeryroot-loop-") as tmp:
        work = Path(tmp)
        redis = start_redis(work)
        fleet = workers(redis, work)
        try:
            fleet.start("loop1")
            book = work / "loop.yaml"
            book.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - name: many\n"
                            f"      file: path={work} state=directory\n"
                            f"      with_sequence: start=1 end={items}\n")
            inventory = work / "inventory.yaml"
            inventory.write_text("all:\n  hosts:\n    loop1:\n")
            extra = ["--strategy", strategy] if strategy else []
            run = timed(play_argv(book, inventory, redis.url, *extra), cwd=work)
            worker_mb = peak_rss_mb(fleet.pids()[0])
            redis_mb = redis.client.info("memory")["used_memory_peak"] / 2**20
        finally:
            fleet.stop()
            redis.stop()
    summary = {}
    if run.rc == 0:
        task = json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"]["loop1"]
        summary = task.get("results_summary", {"items": len(task["results"])})
    return {"items": items, "strategy": strategy or "default", "rc": run.rc, "wall": run.wall,
            "controller_rss_mb": run.rss_mb, "worker_rss_mb": worker_mb, "redis_peak_mb": redis_mb,
            "summary": {k: v for k, v in summary.items() if k != "note"},
            "stderr": run.stderr[-2000:] if run.rc else ""}


def describe(row: dict) -> str:
    text = (f"items {row['items']}, strategy {row['strategy']}: rc {row['rc']}, wall {row['wall']:.1f} s, "
            f"controller peak RSS {row['controller_rss_mb']:.0f} MB, worker peak RSS {row['worker_rss_mb']:.0f} MB, "
            f"Redis used_memory_peak {row['redis_peak_mb']:.0f} MB\n  result: {json.dumps(row['summary'])}")
    return text + (f"\n{row['stderr']}" if row["rc"] else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--strategy", choices=("linear", "free"), default=None)
    options = parser.parse_args()
    print(describe(measure(options.items, options.strategy)))


if __name__ == "__main__":
    main()
