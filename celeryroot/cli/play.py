"""celeryroot-play: run playbooks on the hosts' workers, as ansible-playbook does."""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="celeryroot-play", description=__doc__)
    p.add_argument("playbook", help="playbook file (YAML list of plays)")
    p.add_argument("-i", "--inventory", action="append", default=None,
                   help="inventory file, directory or host list; repeatable, later sources win "
                        "(default: ./inventory.yaml)")
    p.add_argument("-l", "--limit", default=None, help="further limit the hosts with a pattern")
    p.add_argument("-t", "--tags", action="append", default=[], help="only run tasks with these tags")
    p.add_argument("--skip-tags", action="append", default=[], help="skip tasks with these tags")
    p.add_argument("-C", "--check", action="store_true", help="predict changes; change nothing")
    p.add_argument("-D", "--diff", action="store_true", help="show the differences made (or predicted)")
    p.add_argument("-e", "--extra-vars", action="append", default=[],
                   help="k=v pairs, JSON/YAML, or @file.yaml (repeatable; highest precedence)")
    p.add_argument("-v", "--verbose", action="count", default=0, help="show module messages and output")
    p.add_argument("--json", action="store_true", help="print one JSON document (like Ansible's json callback)")
    add_timeout(p)
    p.add_argument("--start-at-task", default=None, help="start the run at the task of this name")
    p.add_argument("--syntax-check", action="store_true", help="load and validate the run, contact no host")
    p.add_argument("--list-hosts", action="store_true", help="list each play's hosts and stop")
    p.add_argument("--list-tasks", action="store_true", help="list each play's selected tasks and stop")
    p.add_argument("--list-tags", action="store_true", help="list each play's tags and stop")
    p.add_argument("--broker", default=None, help="broker URL (else CELERYROOT_BROKER_URL, else celeryroot.yaml)")
    p.add_argument("--config", default=None, help="configuration file instead of the default ones")
    return p.parse_args(argv)


#: Defaults of ``--timeout``: for a host to start a task, and for the broker to answer.
HOST_TIMEOUT = 30.0
BROKER_WAIT = 5.0


def add_timeout(p: argparse.ArgumentParser) -> None:
    """``--timeout``, as celeryroot-play and celeryroot share it."""
    p.add_argument("--timeout", type=float, default=None,
                   help=f"seconds a host may take to start a task before it is UNREACHABLE (default "
                        f"{HOST_TIMEOUT:g}), and the broker to answer (default {BROKER_WAIT:g})")


def main(argv=None) -> int:
    return guarded(run, parse_args(argv))


def guarded(command, opts) -> int:
    """Run a command line's ``command``: bad input, or a broker that cannot
    be reached, is exit status 1 with the error on stderr; an interrupt 99."""
    from ..source import InputError

    try:
        return command(opts)
    except InputError as exc:
        print(f"ERROR! {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        if not _broker_unreachable(exc):
            raise
        print(f"ERROR! cannot reach the broker: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 99


def _broker_unreachable(exc: Exception) -> bool:
    # Imported here: by now Celery and redis are loaded anyway, and --help,
    # --syntax-check and bad input stay fast without them.
    from kombu.exceptions import OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError

    return isinstance(exc, (OperationalError, RedisConnectionError))


def run(opts) -> int:
    from ..inventories import load_vars_dirs
    from ..playbook import load_playbook
    from ..preflight import preflight
    from ..selection import Selection
    from ..tags import split

    playbook_path = Path(opts.playbook)
    config, registry, inventory, extra_vars = load_context(opts, playbook_path.parent)
    playbook = load_playbook(playbook_path, registry, extra_vars, config.options.get("roles_path", []))
    # group_vars/ and host_vars/ beside the playbook outrank the inventory's, as in Ansible.
    load_vars_dirs(inventory, playbook.directory)
    limit = inventory.match(opts.limit) if opts.limit else None
    selection = Selection(limit, split(opts.tags), split(opts.skip_tags), opts.start_at_task)
    targets = preflight(playbook, inventory, registry, selection, extra_vars, opts.check)
    if opts.syntax_check or opts.list_hosts or opts.list_tasks or opts.list_tags:
        print(listing(opts, playbook, targets, selection))
        return 0
    return execute(opts, config, registry, inventory, playbook, extra_vars, selection, targets)


def load_context(opts, base: Path):
    """Configuration, modules (``base/modules`` too), inventory and extra vars
    of a run, from the options celeryroot-play and celeryroot share."""
    from ..config import load_config
    from ..inventories import load_inventory
    from ..registry import Registry

    config = load_config(opts.broker, opts.config)
    registry = Registry([*config.modules_path, "modules", base / "modules"])
    sources = opts.inventory or (["inventory.yaml"] if os.path.exists("inventory.yaml") else [])
    return config, registry, load_inventory(sources), parse_extra_vars(opts.extra_vars)


def execute(opts, config, registry, inventory, playbook, extra_vars, selection, targets) -> int:
    """Run a checked playbook on its ``targets`` with the live or JSON report;
    the exit status."""
    from ..report import make_report
    from ..step import Mode
    from ..strategy import Run

    hosts = {h for hs in targets.values() for h in hs}
    mode = Mode(check=opts.check, diff=opts.diff)
    report = make_report("json" if opts.json else None, opts.verbose, opts.diff)
    with ExitStack() as stack:
        dispatcher, facts, pending = stack.enter_context(_services(config, registry, hosts, opts.timeout, report))
        run = Run(playbook, inventory, registry, dispatcher, report, mode, extra_vars, selection, facts, pending,
                  bundles=bool(config.options.get("bundles", False)))
        try:
            stats = run.run()
        finally:
            report.close()
    report.recap(stats)
    return stats.exit_status()


def listing(opts, playbook, targets: dict, selection) -> str:
    """``--list-hosts``, ``--list-tasks``, ``--list-tags``, ``--syntax-check``, as Ansible prints them."""
    lines = [f"playbook: {opts.playbook}"]
    for index, play in enumerate(playbook.plays):
        lines.append(f"\n  play #{index + 1} ({play.hosts}): {play.name}\tTAGS: [{','.join(play.tags)}]")
        if opts.list_hosts:
            lines.append(f"    pattern: {play.hosts!r}")
            lines.append(f"    hosts ({len(targets[index])}):")
            lines += [f"      {h}" for h in targets[index]]
        tasks = [t for t in play.tasks if selection.takes(t)]
        if opts.list_tasks:
            lines.append("    tasks:")
            lines += [f"      {t.title}\tTAGS: [{', '.join(t.tags)}]" for t in tasks]
        if opts.list_tags:
            tags = sorted({tag for t in tasks for tag in t.tags})
            lines.append(f"      TASK TAGS: [{', '.join(tags)}]")
    return "\n".join(lines)


@contextmanager
def _services(config, registry, hosts: set[str], timeout: float | None, report):
    """The dispatcher, fact cache and pending-handler memory of a run."""
    from ..app import make_app
    from ..dispatch import Dispatcher
    from ..embedded import LOCAL_HOSTS
    from ..factcache import fact_cache
    from ..liveness import RedisLiveness
    from ..pending import PendingHandlers
    from ..source import InputError

    if not config.embedded:
        liveness = RedisLiveness(config.broker_url)
        with Dispatcher(make_app(config.broker_url), liveness, _or(timeout, HOST_TIMEOUT),
                        _or(timeout, BROKER_WAIT)) as dispatcher:
            yield dispatcher, fact_cache(config), PendingHandlers(liveness.client)
        return
    if not hosts <= LOCAL_HOSTS:
        others = ", ".join(sorted(hosts - LOCAL_HOSTS))
        raise InputError(None, f"no broker configured, so only localhost can be managed (embedded mode); "
                               f"this run targets {others}. Set --broker, CELERYROOT_BROKER_URL or broker_url "
                               f"in celeryroot.yaml.")
    report.notice("embedded local mode: no broker configured, running an in-process broker and worker")
    from ..config import EMBEDDED_BROKER
    from ..embedded import embedded_worker

    with embedded_worker(registry) as liveness:
        with Dispatcher(make_app(EMBEDDED_BROKER), liveness, _or(timeout, HOST_TIMEOUT)) as dispatcher:
            yield dispatcher, fact_cache(config), PendingHandlers(None)


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def parse_extra_vars(values: list[str]) -> dict:
    """``-e k=v k2=v2``, ``-e '{"k": 1}'`` or ``-e @vars.yaml``, later ones winning."""
    from ..source import InputError, expect_mapping, load_yaml, plain, where

    out: dict = {}
    for value in values:
        value = value.strip()
        if value.startswith("@"):
            node = load_yaml(value[1:])
            out.update(plain(expect_mapping(node, where(node), f"extra vars file {value[1:]}")))
        elif value.startswith("{"):
            try:
                out.update(json.loads(value))
            except json.JSONDecodeError as exc:
                raise InputError(None, f"-e {value!r}: not valid JSON: {exc}") from None
        else:
            import shlex
            for pair in shlex.split(value):
                if "=" not in pair:
                    raise InputError(None, f"-e {pair!r}: expected key=value")
                key, _, val = pair.partition("=")
                out[key] = val
    return out


if __name__ == "__main__":
    sys.exit(main())
