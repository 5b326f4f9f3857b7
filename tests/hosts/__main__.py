"""Test hosts for humans.

  python -m tests.hosts up 3 [--names web1,web2,db1]   boot hosts, install workers
  python -m tests.hosts status                          what is up
  python -m tests.hosts run HOST COMMAND...             run a command on a host
  python -m tests.hosts down                            remove everything

Hosts stay up after `up` returns, until `down` (or the next test run, which
clears whatever it finds under its names before it starts).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import STATE, Lock, Unavailable
from .containers import Container
from .fleet import Fleet, clear, shared_pki

RECORD = STATE / "fleet.json"


def up(count: int, names: list[str] | None) -> int:
    names = names or [f"host{i + 1}" for i in range(count)]
    with Lock(timeout=10):
        fleet = Fleet(names, log=lambda msg: print(msg, file=sys.stderr))
        try:
            fleet.up()
        except BaseException:
            fleet.down()
            raise
        inventory = fleet.inventory(STATE / "inventory.yaml")
        RECORD.write_text(json.dumps({
            "broker": fleet.broker.url, "inventory": str(inventory),
            "hosts": {h.name: {"address": h.address, "leader": h.container.leader} for h in fleet.hosts.values()},
        }, indent=2))
    print(f"export CELERYROOT_BROKER_URL={fleet.broker.url}")
    print(f"export CELERYROOT_PKI={shared_pki().directory}")
    print(f"# celeryroot-play -i {inventory} PLAYBOOK")
    return 0


def status() -> int:
    if not RECORD.exists():
        print("no test hosts are up")
        return 1
    record = json.loads(RECORD.read_text())
    for name, host in record["hosts"].items():
        state = "up" if os.path.exists(f"/proc/{host['leader']}") else "gone"
        print(f"{name:12} {host['address']:15} leader {host['leader']:<8} {state}")
    print(f"broker {record['broker']}, inventory {record['inventory']}")
    return 0


def run(name: str, argv: list[str]) -> int:
    host = Container(name, Path(), "", {})
    host.leader = json.loads(RECORD.read_text())["hosts"][name]["leader"]
    os.execvpe("nsenter", host.inside(argv), host.env({"TERM": os.environ.get("TERM", "dumb")}))


def down() -> int:
    with Lock(timeout=10):
        clear()
        RECORD.unlink(missing_ok=True)
        (STATE / "inventory.yaml").unlink(missing_ok=True)
    print("test hosts removed")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.hosts", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="boot COUNT hosts and install their workers")
    p_up.add_argument("count", type=int)
    p_up.add_argument("--names", type=lambda s: s.split(","), default=None, help="comma-separated host names")
    sub.add_parser("status", help="list the hosts that are up")
    p_run = sub.add_parser("run", help="run a command on a host")
    p_run.add_argument("host")
    p_run.add_argument("argv", nargs=argparse.REMAINDER)
    sub.add_parser("down", help="remove hosts, namespaces, bridge and broker")
    opts = p.parse_args(argv)
    try:
        if opts.command == "up":
            return up(opts.count, opts.names)
        if opts.command == "run":
            return run(opts.host, opts.argv or ["bash"])
        return status() if opts.command == "status" else down()
    except Unavailable as exc:
        print(f"test hosts are not available here: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
