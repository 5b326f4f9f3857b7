"""celeryroot hosts: which hosts have a live worker, and what each is doing.

    celeryroot hosts                       # every host of ./inventory.yaml
    celeryroot hosts 'web:!web2' -i inventory.fleet.yaml
    celeryroot hosts --json

Each host matching the pattern is up (its worker's heartbeat is fresh),
down (it lapsed or its worker stopped; remembered for 30 days) or never
seen, with the age of its last heartbeat, the worker's celeryroot and
Python versions, the host's uptime and load average, how many messages
wait in its queue, and the run its worker is busy with. Live workers the
inventory does not list are shown apart. One Redis round trip per broker
reads them all (controller/presence.py), whatever the number of hosts; with
several brokers (``brokers:`` in celeryroot.yaml) each host is looked for on
its own, and a broker that does not answer is one line on stderr (its hosts
are left out, exit 1).
"""

from __future__ import annotations

import argparse
import json
import sys

from .options import INSECURE_HELP, guarded

COLUMNS = ("HOST", "STATE", "HEARTBEAT", "VERSION", "PYTHON", "UPTIME", "LOAD", "QUEUE", "RUN")


def parse_args(argv) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="celeryroot hosts", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("pattern", nargs="?", default="all", help="host pattern (default: all)")
    p.add_argument("-i", "--inventory", action="append", default=None,
                   help="inventory file, directory or host list; repeatable (default: ./inventory.yaml)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--broker", default=None, help="broker URL (else CELERYROOT_BROKER_URL, else celeryroot.yaml)")
    p.add_argument("--config", default=None, help="configuration file instead of the default ones")
    p.add_argument("--insecure", action="store_true", help=INSECURE_HELP)
    return p.parse_args(argv)


def run(opts) -> int:
    import os

    from ..config import load_config, masked
    from ..controller.brokers import routes, split
    from ..controller.presence import presence
    from ..lang.inventories import load_inventory
    from ..lang.source import InputError, Where
    from ..messages import redis_client
    from redis.exceptions import ConnectionError as RedisConnectionError

    config = load_config(opts.broker, opts.config, opts.insecure)
    if config.embedded:
        raise InputError(None, "celeryroot hosts reads the workers' heartbeats in Redis: no broker is configured "
                               "(--broker, CELERYROOT_BROKER_URL or broker_url in celeryroot.yaml)")
    sources = opts.inventory or (["inventory.yaml"] if os.path.exists("inventory.yaml") else [])
    inventory = load_inventory(sources)
    hosts = inventory.match(opts.pattern, Where("celeryroot hosts"))
    route = routes(config.fleet, inventory, hosts)
    # Every broker is asked, even one none of the pattern's hosts uses: its unlisted workers count too.
    parts = {name: [] for name in config.fleet} | split(route, hosts)
    listed, unlisted, status = {}, [], 0
    for name, part in parts.items():
        try:
            found, others = presence(redis_client(config.fleet[name]), part)
        except RedisConnectionError as exc:
            print(f"celeryroot hosts: broker {name} ({masked(config.fleet[name])}) did not answer ({exc}); "
                  f"its {len(part)} hosts are left out", file=sys.stderr)
            status = 1
            continue
        listed.update((p.host, p) for p in found)
        unlisted += others
    listed = [listed[h] for h in hosts if h in listed]
    unlisted.sort(key=lambda p: p.host)
    print(json.dumps(document(listed, unlisted), indent=2) if opts.json else table(listed, unlisted))
    return status


def document(listed, unlisted) -> dict:
    counts = {state: sum(p.state == state for p in listed) for state in ("up", "down", "never_seen")}
    return {"hosts": [p.document() for p in listed], "unlisted": [p.document() for p in unlisted],
            "summary": {**counts, "hosts": len(listed), "unlisted": len(unlisted)}}


def table(listed, unlisted) -> str:
    summary = document(listed, [])["summary"]
    out = [_columns([COLUMNS, *(_row(p) for p in listed)]),
           f"up: {summary['up']}, down: {summary['down']}, never seen: {summary['never_seen']} "
           f"(of {len(listed)} hosts)"]
    if unlisted:
        out += ["", f"live workers the inventory does not list ({len(unlisted)}):",
                _columns([COLUMNS, *(_row(p) for p in unlisted)])]
    return "\n".join(out)


def _row(p) -> tuple[str, ...]:
    d = p.document()
    heartbeat = "-" if d["age"] is None else f"{duration(d['age'])} ago" + (", stopped" if d["stopped"] else "")
    return (p.host, p.state.replace("_", " "), heartbeat, d["version"] or "-", d["python"] or "-",
            duration(d["uptime"]) if d["uptime"] is not None else "-",
            " ".join(f"{x:.2f}" for x in d["load"]) if d["load"] else "-", str(p.queue), d["run"] or "-")


def _columns(rows) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def duration(seconds: float) -> str:
    """``0.8s``, ``42s``, ``5m12s``, ``3h05m``, ``12d03h``."""
    seconds = max(seconds, 0.0)
    if seconds < 10:
        return f"{seconds:.1f}s"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def main(argv=None) -> int:
    return guarded(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
