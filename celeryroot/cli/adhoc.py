"""celeryroot: run one module on the hosts matching a pattern, as ``ansible`` does.

    celeryroot all -m ping
    celeryroot web -a "uptime"                      # the default module is command
    celeryroot 'web:!web2' -m file -a "path=/srv/app state=directory" -C

The module call becomes a one-task play, parsed and checked as a playbook's
task is and run with the same report, recap and exit status as
celeryroot-play. Facts are not gathered, as in Ansible's ad-hoc mode.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import play


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="celeryroot", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("pattern", help="host pattern: all, a group, a host, web*, ~regex, a:b, a:&b, a:!b")
    p.add_argument("-m", "--module-name", default="command", help="module to run (default: command)")
    p.add_argument("-a", "--args", default=None,
                   help="module arguments: k=v pairs, the command line for command/shell, or a JSON mapping")
    p.add_argument("-i", "--inventory", action="append", default=None,
                   help="inventory file, directory or host list; repeatable (default: ./inventory.yaml)")
    p.add_argument("-l", "--limit", default=None, help="further limit the hosts with a pattern")
    p.add_argument("-e", "--extra-vars", action="append", default=[],
                   help="k=v pairs, JSON/YAML, or @file.yaml (repeatable)")
    p.add_argument("-C", "--check", action="store_true", help="predict changes; change nothing")
    p.add_argument("-D", "--diff", action="store_true", help="show the differences made (or predicted)")
    p.add_argument("-v", "--verbose", action="count", default=0, help="show module messages and output")
    p.add_argument("--json", action="store_true", help="print one JSON document (like Ansible's json callback)")
    play.add_timeout(p)
    p.add_argument("--list-hosts", action="store_true", help="list the matching hosts and stop")
    p.add_argument("--broker", default=None, help="broker URL (else CELERYROOT_BROKER_URL, else celeryroot.yaml)")
    p.add_argument("--config", default=None, help="configuration file instead of the default ones")
    return p.parse_args(argv)


def adhoc_playbook(pattern: str, module: str, args: str | None, registry, base: Path):
    """A playbook of one play with one task, parsed as a playbook's task is."""
    from ..playbook import Play, Playbook
    from ..source import InputError, Where
    from ..tasks import Scope, parse_task

    at = Where(f"celeryroot {pattern} -m {module}")
    raw = args
    if args is not None and args.lstrip().startswith("{"):
        try:
            raw = json.loads(args)
        except json.JSONDecodeError as exc:
            raise InputError(at, f"-a {args!r}: not a valid JSON mapping: {exc}") from None
    # Relative paths (copy's src, lookups) resolve against the working directory, as in Ansible.
    task = parse_task({module: raw}, at, registry, scope=Scope(search=(str(base.resolve()),)))
    ad_hoc = Play(name=f"Ad-hoc: {module} on {pattern}", hosts=pattern, where=at, sections=[[task]],
                  gather_facts=False)
    return Playbook(base / "<ad-hoc>", [ad_hoc])


def run(opts) -> int:
    from ..preflight import preflight
    from ..selection import Selection

    base = Path.cwd()
    config, registry, inventory, extra_vars = play.load_context(opts, base)
    playbook = adhoc_playbook(opts.pattern, opts.module_name, opts.args, registry, base)
    selection = Selection(inventory.match(opts.limit) if opts.limit else None)
    targets = preflight(playbook, inventory, registry, selection, extra_vars, opts.check)
    if opts.list_hosts:
        print(f"  hosts ({len(targets[0])}):\n" + "".join(f"    {h}\n" for h in targets[0]), end="")
        return 0
    return play.execute(opts, config, registry, inventory, playbook, extra_vars, selection, targets)


def main(argv=None) -> int:
    return play.guarded(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
