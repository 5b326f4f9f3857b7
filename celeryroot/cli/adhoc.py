"""celeryroot: run one module on the hosts matching a pattern, as ``ansible`` does.

    celeryroot all -m ping
    celeryroot web -a "uptime"                      # the default module is command
    celeryroot 'web:!web2' -m file -a "path=/srv/app state=directory" -C
    celeryroot pki init                             # keys and certificates: cli/pki.py
    celeryroot acl -i inventory.yaml --passwords FILE   # the Redis ACL of the hosts (celeryroot acl -h)
    celeryroot hosts [PATTERN] -i inventory.yaml    # which hosts have a live worker (celeryroot hosts -h)
    celeryroot drift push PLAYBOOK --every 1h       # hosts check a playbook on a schedule (celeryroot drift -h)

The module call becomes a one-task play, parsed and checked as a playbook's
task is and run with the exit status of celeryroot-play. It prints as
``ansible`` does (``web1 | CHANGED | rc=0 >>`` and the output, or
``web1 | SUCCESS => {…}``), without a recap; ``--json`` is celeryroot-play's
document. Facts are not gathered, as in Ansible's ad-hoc mode.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .options import end, guarded, parse_run, run_options, started, starting, timeouts


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="celeryroot", description=__doc__, parents=[run_options()],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("pattern", help="host pattern: all, a group, a host, web*, ~regex, a:b, a:&b, a:!b")
    p.add_argument("-m", "--module-name", default="command", help="module to run (default: command)")
    p.add_argument("-a", "--args", default=None,
                   help="module arguments: k=v pairs, the command line for command/shell, or a JSON mapping")
    p.add_argument("--list-hosts", action="store_true", help="list the matching hosts and stop")
    return parse_run(p, argv)


def adhoc_playbook(pattern: str, module: str, args: str | None, registry, base: Path):
    """A playbook of one play with one task, parsed as a playbook's task is."""
    from ..lang.playbook import Play, Playbook
    from ..lang.source import InputError, Where
    from ..lang.tasks import Scope, parse_task

    at = Where(f"celeryroot {pattern} -m {module}")
    raw = args
    if args is not None and args.lstrip().startswith("{"):
        try:
            raw = json.loads(args)
        except json.JSONDecodeError as exc:
            raise InputError(at, f"-a {args!r}: not a valid JSON mapping: {exc}") from None
    # Relative paths (copy's src, lookups) resolve against the working directory, as in Ansible.
    task = parse_task({module: raw}, at, registry, scope=Scope(search=(str(base.resolve()),)))
    # One task is one message per host either way: a bundle would add its files and gain nothing.
    ad_hoc = Play(name=f"Ad-hoc: {module} on {pattern}", hosts=pattern, where=at, sections=[[task]],
                  gather_facts=False, strategy="linear")
    return Playbook(base / "<ad-hoc>", [ad_hoc])


def run(opts) -> int:
    from ..controller.session import execute, load_context
    from ..engine.preflight import preflight
    from ..engine.selection import Selection
    from ..lang.source import Where
    from ..report import make_report

    base = Path.cwd()
    config, registry, inventory, extra_vars = load_context(opts, base)
    playbook = adhoc_playbook(opts.pattern, opts.module_name, opts.args, registry, base)
    selection = Selection(inventory.match(opts.limit, Where("--limit")) if opts.limit else None)
    targets = preflight(playbook, inventory, registry, selection, extra_vars, opts.check)
    if opts.list_hosts:
        print(f"  hosts ({len(targets[0])}):\n" + "".join(f"    {h}\n" for h in targets[0]), end="")
        return 0
    report = make_report("json" if opts.json else "adhoc", opts.verbose, opts.diff, module=opts.module_name)
    started()
    return execute(opts, timeouts(opts), report, config, registry, inventory, playbook, extra_vars, selection, targets)


#: Commands of their own behind ``celeryroot``, by first argument, each a
#: module of this package with ``main(argv)``. A host or group of such a
#: name is still reached as a pattern of one term: ``celeryroot acl, -m ping``.
SUBCOMMANDS = {"acl": ".acl", "drift": ".drift", "hosts": ".hosts", "pki": ".pki"}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in SUBCOMMANDS:
        import importlib

        return importlib.import_module(SUBCOMMANDS[argv[0]], __package__).main(argv[1:])
    # Once the run has ended (its report written, its services released), the process ends here.
    starting()
    end(guarded(run, parse_args(argv)))



if __name__ == "__main__":
    sys.exit(main())
