"""celeryroot drift: which hosts have drifted from which playbook, since when.

    celeryroot drift push playbooks/site.yaml -i inventory.yaml --every 1h   # check site.yaml hourly
    celeryroot drift push site.yaml -i inv.yaml --limit web --every 30m --name web-site -e env=prod
    celeryroot drift ['web:!web2'] -i inventory.yaml [--diff] [--json]     # what the checks found
    celeryroot drift remove site -i inventory.yaml                          # stop checking

``push`` loads and validates the playbook as celeryroot-play does, builds
each host's whole-play bundles in check and diff mode, signs and seals
them to the host and leaves them in its keys in Redis, with the interval
(``--every``: 90s, 30m, 1h, 2d) and a name (the playbook's file name
without .yaml, or ``--name``); a push of that name replaces the last one,
on exactly the hosts it targets. Each host's worker then runs them in
check mode when due (never while a run holds the host) and publishes what
would change, signed and sealed to the controller (worker/drift.py).

Without ``push`` or ``remove``: one line per host and schedule: its state
(in sync, drifted, never checked, check failed), its last check, since
when it has drifted (the same tasks, check after check), and how many
tasks would change; ``--diff`` adds their diffs, ``--json`` one document.
Exit status 0 when every host is in sync, 2 when one has drifted or its
check failed, 1 on bad input or a broker that does not answer.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from .options import INSECURE_HELP, guarded

COLUMNS = ("HOST", "PLAY", "STATE", "CHECKED", "DRIFTED SINCE", "CHANGES")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def interval(text: str) -> float:
    """``--every``: a number of seconds, or with s, m, h or d."""
    found = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", text.strip())
    if not found or float(found[1]) * UNITS[found[2] or "s"] < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: an interval of 1 s or more, such as 90s, 30m, 1h or 2d")
    return float(found[1]) * UNITS[found[2] or "s"]


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--inventory", action="append", default=None,
                   help="inventory file, directory or host list; repeatable (default: ./inventory.yaml)")
    p.add_argument("--broker", default=None, help="broker URL (else CELERYROOT_BROKER_URL, else celeryroot.yaml)")
    p.add_argument("--config", default=None, help="configuration file instead of the default ones")
    p.add_argument("--pki", default=None, help="the controller's PKI directory (else CELERYROOT_PKI, else "
                                               "pki_dir from config, else /etc/celeryroot/pki)")
    p.add_argument("--insecure", action="store_true", help=INSECURE_HELP)


def parse_args(argv: list[str]) -> argparse.Namespace:
    if argv and argv[0] == "push":
        p = argparse.ArgumentParser(prog="celeryroot drift push", description=__doc__,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("playbook", help="playbook file")
        p.add_argument("-l", "--limit", default=None, help="further limit the hosts with a pattern")
        p.add_argument("-e", "--extra-vars", action="append", default=[],
                       help="k=v pairs, JSON/YAML, or @file.yaml (repeatable; highest precedence)")
        p.add_argument("-t", "--tags", action="append", default=[], help="only check tasks with these tags")
        p.add_argument("--skip-tags", action="append", default=[], help="skip tasks with these tags")
        p.add_argument("--every", type=interval, default=3600.0, help="how often each host checks (default 1h)")
        p.add_argument("--name", default=None, help="the schedule's name (default: the playbook's file name)")
        _common(p)
        opts = p.parse_args(argv[1:])
        opts.action = "push"
    elif argv and argv[0] == "remove":
        p = argparse.ArgumentParser(prog="celeryroot drift remove", description=__doc__,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("name", help="the schedule's name")
        p.add_argument("pattern", nargs="?", default="all", help="host pattern (default: all)")
        _common(p)
        opts = p.parse_args(argv[1:])
        opts.action = "remove"
    else:
        p = argparse.ArgumentParser(prog="celeryroot drift", description=__doc__,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("pattern", nargs="?", default="all", help="host pattern (default: all)")
        p.add_argument("--diff", action="store_true", help="show what each drifted task would change")
        p.add_argument("--json", action="store_true", help="print one JSON document")
        _common(p)
        opts = p.parse_args(argv)
        opts.action = "status"
    return opts


def run(opts) -> int:
    from ..config import load_config
    from ..lang.source import InputError

    config = load_config(opts.broker, opts.config, opts.insecure)
    if config.embedded:
        raise InputError(None, "celeryroot drift keeps its schedules with the workers in Redis: no broker is "
                               "configured (--broker, CELERYROOT_BROKER_URL or broker_url in celeryroot.yaml)")
    return {"push": _push, "remove": _remove, "status": _status}[opts.action](opts, config)


def _push(opts, config) -> int:
    from ..controller.brokers import routes, split
    from ..controller.drift import bundles_for, check_name, push
    from ..controller.session import controller_seal, parse_extra_vars
    from ..engine.preflight import preflight
    from ..engine.selection import Selection
    from ..lang.inventories import load_inventory, load_vars_dirs
    from ..lang.playbook import load_playbook
    from ..lang.source import InputError, Where
    from ..lang.tags import split as split_tags
    from ..messages import redis_client
    from ..pki import pki_dir
    from ..registry import Registry

    path = Path(opts.playbook)
    name = check_name(opts.name or path.name.removesuffix(".yaml").removesuffix(".yml"))
    registry = Registry([*config.modules_path, "modules", path.parent / "modules"])
    inventory = load_inventory(_sources(opts))
    extra_vars = parse_extra_vars(opts.extra_vars)
    # A prompt takes its default: no one is there when the host checks.
    playbook = load_playbook(path, registry, extra_vars, config.options.get("roles_path", []),
                             ask=lambda shown, private: "")
    load_vars_dirs(inventory, playbook.directory)
    limit = inventory.match(opts.limit, Where("--limit")) if opts.limit else None
    selection = Selection(limit, split_tags(opts.tags), split_tags(opts.skip_tags))
    preflight(playbook, inventory, registry, selection, extra_vars, True)
    bundles = bundles_for(playbook, inventory, registry, selection, extra_vars)
    if not bundles:
        raise InputError(None, f"no host of {opts.playbook} has a task to check")
    seal = controller_seal(pki_dir(opts.pki, config.options), set(bundles))
    if seal.unknown:
        raise InputError(None, "no trusted certificate for " + "; ".join(f"{h}: {why}" for h, why in
                                                                          sorted(seal.unknown.items())))
    everyone = list(inventory.hosts)
    route = routes(config.fleet, inventory, everyone)
    others = split(route, [h for h in everyone if h not in bundles])
    clients = {broker: redis_client(config.fleet[broker]) for broker in set(route.values())}
    push(clients, route, others, seal, name, opts.every, bundles)
    print(f"drift {name}: {len(bundles)} hosts check {opts.playbook} every {_duration(opts.every)} "
          f"(celeryroot drift to see what they find)")
    return 0


def _remove(opts, config) -> int:
    from ..controller.brokers import routes, split
    from ..controller.drift import check_name, remove
    from ..lang.inventories import load_inventory
    from ..lang.source import Where
    from ..messages import redis_client

    name = check_name(opts.name)
    inventory = load_inventory(_sources(opts))
    hosts = inventory.match(opts.pattern, Where("celeryroot drift remove"))
    removed = sum(remove(redis_client(config.fleet[broker]), part, name)
                  for broker, part in split(routes(config.fleet, inventory, hosts), hosts).items())
    print(f"drift {name}: removed from {removed} hosts")
    return 0


def _status(opts, config) -> int:
    from redis.exceptions import ConnectionError as RedisConnectionError

    from ..config import masked
    from ..controller.brokers import routes, split
    from ..controller.drift import status
    from ..controller.session import controller_seal
    from ..lang.inventories import load_inventory
    from ..lang.source import Where
    from ..messages import redis_client
    from ..pki import pki_dir

    inventory = load_inventory(_sources(opts))
    hosts = inventory.match(opts.pattern, Where("celeryroot drift"))
    seal = controller_seal(pki_dir(opts.pki, config.options), set(hosts))
    found, code = [], 0
    for broker, part in split(routes(config.fleet, inventory, hosts), hosts).items():
        try:
            found += status(redis_client(config.fleet[broker]), seal, part)
        except RedisConnectionError as exc:
            print(f"celeryroot drift: broker {broker} ({masked(config.fleet[broker])}) did not answer ({exc}); "
                  f"its {len(part)} hosts are left out", file=sys.stderr)
            code = 1
    order = {h: i for i, h in enumerate(hosts)}
    found.sort(key=lambda d: (order[d.host], d.name))
    print(json.dumps({"drift": [d.document() for d in found]}, indent=2) if opts.json else table(found, opts.diff))
    if code == 0 and any(d.state in ("drifted", "check failed", "unreadable") for d in found):
        code = 2
    return code


def table(found, diff: bool = False) -> str:
    from ..report.text import unified

    if not found:
        return "no drift checks (celeryroot drift push PLAYBOOK)"
    rows = [COLUMNS, *(_row(d) for d in found)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    for d in found:
        if d.why:
            out.append(f"{d.host} {d.name}: {d.why}")
        for failure in d.failed:
            out.append(f"{d.host} {d.name}: failed: {failure['play']} / {failure['task']}: {failure['msg']}")
        if diff:
            for change in d.changed:
                out.append(f"--- {d.host} {d.name}: {change['play']} / {change['task']}: {change['msg']}")
                if change["diff"]:
                    out.append(unified(change["diff"]).rstrip("\n"))
    # What a host wrote reaches the operator's terminal: no escape sequences from it.
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "?", "\n".join(out))


def _row(d) -> tuple[str, ...]:
    checked = "-" if d.at is None else f"{_duration(d.now - d.at)} ago" + (" (late)" if d.late else "")
    since = "-" if d.since is None else f"{_duration(d.now - d.since)} ago"
    changes = str(len(d.changed)) if d.at is not None else "-"
    return d.host, d.name, d.state, checked, since, changes


def _sources(opts) -> list[str]:
    import os

    return opts.inventory or (["inventory.yaml"] if os.path.exists("inventory.yaml") else [])


def _duration(seconds: float) -> str:
    from .hosts import duration

    return duration(seconds)


def main(argv=None) -> int:
    return guarded(run, parse_args(list(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    sys.exit(main())
