#!/usr/bin/env python3
"""What one ``celeryroot hosts`` costs over a large fleet (controller/presence.py).

    python3 bench/presence.py [--hosts 1000 10000] [--rounds 5]

For each fleet size, a fresh redis-server holds the hosts' heartbeat records
and queues, written directly with redis-py as workers write them: 90 % up
(a few with messages waiting and a run under way), 4 % stopped, 3 % lapsed
an hour ago, 3 % never seen, and 20 live workers the inventory does not
list. Then ``celeryroot hosts -i INVENTORY`` runs as a command (wall time
and its own CPU, table and ``--json``), and, in this process, the
inventory's loading and ``presence()`` alone (the Redis round trip and
decoding). Medians of ``--rounds`` runs;
it prints figures and never judges them.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from celeryroot.beats import HEARTBEAT_KEEP, STOPPED, WORKERS, Beat, broker_time  # noqa: E402
from celeryroot.config import heartbeat_key, host_queue  # noqa: E402
from celeryroot.controller.presence import presence  # noqa: E402
from celeryroot.lang.inventories import load_inventory  # noqa: E402
from support import RedisServer, controller_env  # noqa: E402

UNLISTED = 20


def populate(client, hosts: list[str]) -> None:
    now = broker_time(client.time())
    pipe = client.pipeline(transaction=False)
    for i, host in enumerate(hosts + [f"stray{n:03d}" for n in range(UNLISTED)]):
        kind = i % 100 if i < len(hosts) else 0
        if kind >= 97:
            continue  # never seen
        record = Beat(at=now - (3600 if kind >= 94 else 0.5), state=STOPPED if 90 <= kind < 94 else "up",
                      started=now - 86400, pid=1000 + i, version="0.1.0", python="3.11.7", uptime=3 * 86400.0,
                      load=(0.1, 0.2, 0.3), run="3f2a9c1b7d0e" if kind < 5 else None)
        pipe.set(heartbeat_key(host), record.encode(), ex=HEARTBEAT_KEEP)
        pipe.sadd(WORKERS, host)
        if kind < 5:
            pipe.lpush(host_queue(host), "x" * 200)
    pipe.execute()


def command(inventory: Path, url: str, *extra: str) -> tuple[float, float]:
    """Wall and CPU seconds of one ``celeryroot hosts`` process."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "celeryroot.cli.adhoc", "hosts", "-i", str(inventory), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=controller_env(url))
    _, status, usage = __import__("os").wait4(proc.pid, 0)
    wall = time.monotonic() - started
    if status != 0:
        raise RuntimeError(f"celeryroot hosts failed: {proc.stderr.read().decode()}")
    return wall, usage.ru_utime + usage.ru_stime


def measure(size: int, rounds: int, workdir: Path) -> None:
    server = RedisServer(workdir)
    try:
        hosts = [f"host{n:05d}" for n in range(size)]
        inventory = workdir / f"inv{size}.yaml"
        inventory.write_text("all:\n  hosts:\n" + "".join(f"    {h}:\n" for h in hosts))
        # Stamped afresh before each call, as live workers keep them fresh.
        table = [(populate(server.client, hosts), command(inventory, server.url))[1] for _ in range(rounds)]
        as_json = [(populate(server.client, hosts), command(inventory, server.url, "--json"))[1]
                   for _ in range(rounds)]
        loads = []
        for _ in range(rounds):
            started = time.perf_counter()
            load_inventory([str(inventory)]).match("all")
            loads.append(time.perf_counter() - started)
        inline = []
        for _ in range(rounds):
            populate(server.client, hosts)
            started = time.perf_counter()
            listed, unlisted = presence(server.client, hosts)
            inline.append(time.perf_counter() - started)
        assert len(listed) == size and len(unlisted) == UNLISTED, (len(listed), len(unlisted))
        wall, cpu = (statistics.median(x) for x in zip(*table))
        jwall, jcpu = (statistics.median(x) for x in zip(*as_json))
        print(f"{size:>6} hosts: celeryroot hosts {wall:.2f} s (CPU {cpu:.2f} s), --json {jwall:.2f} s "
              f"(CPU {jcpu:.2f} s); of which the YAML inventory {statistics.median(loads):.2f} s, presence() "
              f"{statistics.median(inline) * 1000:.0f} ms (one round trip, plus one for the {UNLISTED} unlisted)")
    finally:
        server.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hosts", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--rounds", type=int, default=5)
    opts = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="celeryroot-presence-") as tmp:
        for size in opts.hosts:
            measure(size, opts.rounds, Path(tmp))


if __name__ == "__main__":
    main()
