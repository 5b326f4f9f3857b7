"""celeryroot-play: run playbooks on the hosts' workers, as ansible-playbook does."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .options import end, guarded, parse_run, run_options, started, starting, timeouts


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="celeryroot-play", description=__doc__, parents=[run_options()])
    p.add_argument("playbook", help="playbook file (YAML list of plays)")
    p.add_argument("-t", "--tags", action="append", default=[], help="only run tasks with these tags")
    p.add_argument("--skip-tags", action="append", default=[], help="skip tasks with these tags")
    p.add_argument("--start-at-task", default=None, help="start the run at the task of this name")
    p.add_argument("--syntax-check", action="store_true", help="load and validate the run, contact no host")
    p.add_argument("--list-hosts", action="store_true", help="list each play's hosts and stop")
    p.add_argument("--list-tasks", action="store_true", help="list each play's selected tasks and stop")
    p.add_argument("--list-tags", action="store_true", help="list each play's tags and stop")
    return parse_run(p, argv)


def main(argv=None) -> None:
    """Once the run has ended (its report written, its services released), the process ends here."""
    starting()
    end(guarded(run, parse_args(argv)))


def run(opts) -> int:
    from ..controller.session import execute, load_context
    from ..engine.preflight import preflight
    from ..engine.selection import Selection
    from ..lang.inventories import load_vars_dirs
    from ..lang.playbook import load_playbook
    from ..lang.source import Where
    from ..lang.tags import split
    from ..report import make_report

    playbook_path = Path(opts.playbook)
    config, registry, inventory, extra_vars = load_context(opts, playbook_path.parent)
    listing_only = opts.syntax_check or opts.list_hosts or opts.list_tasks or opts.list_tags
    playbook = load_playbook(playbook_path, registry, extra_vars, config.options.get("roles_path", []),
                             ask=_no_prompt if listing_only else _terminal_prompt())
    # group_vars/ and host_vars/ beside the playbook outrank the inventory's, as in Ansible.
    load_vars_dirs(inventory, playbook.directory)
    limit = inventory.match(opts.limit, Where("--limit")) if opts.limit else None
    selection = Selection(limit, split(opts.tags), split(opts.skip_tags), opts.start_at_task)
    targets = preflight(playbook, inventory, registry, selection, extra_vars, opts.check)
    if listing_only:
        print(listing(opts, playbook, targets, selection))
        return 0
    report = make_report("json" if opts.json else None, opts.verbose, opts.diff)
    started()
    return execute(opts, timeouts(opts), report, config, registry, inventory, playbook, extra_vars, selection, targets)


def _terminal_prompt():
    """How ``vars_prompt`` asks: on the terminal, or (None) not at all when
    there is none (lang/prompts.py then takes defaults or stops)."""
    if not sys.stdin.isatty():
        return None
    import getpass

    return lambda shown, private: getpass.getpass(shown) if private else input(shown)


def _no_prompt(shown: str, private: bool) -> str:
    """Listing and checking ask nothing, as Ansible: a prompt takes its default."""
    return ""


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


if __name__ == "__main__":
    sys.exit(main())
