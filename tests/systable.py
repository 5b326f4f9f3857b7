"""Tables for the system-facing modules (apt, service, user, group).

Their state is not a file tree but packages, processes and accounts, and
one case's final state is often the next one's initial state, so each case
runs on its own: its task as a one-task play, ``--check`` (must predict
``changed`` and leave ``observe()`` as it was), apply (``changed`` as
expected, then ``observe()`` must contain ``then``), apply again (``ok``).

Keep this shape for a new module: the three runs are what "idempotent and
honest" means (a check that predicts the real run's ``changed`` and
changes nothing, a second run that is ``ok``), and a table of cases says
more about a module than its code does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from conftest import write


@dataclass
class SysCase:
    id: str
    task: str  # the module call's YAML, e.g. "apt: name=x state=present"
    changed: bool = True
    always: bool = False  # changed in every run (restarted, reloaded)
    then: dict = field(default_factory=dict)  # expected entries of observe() after apply
    fails: str | None = None  # a failure expected in every run, with this text
    diff: str | None = None  # text expected in the applied run's --diff

    def __repr__(self) -> str:
        return self.id


def run_three(play, workdir: Path, case: SysCase, observe, host: str = "web1", task_extra: str = "") -> dict:
    """The case's task run --check, apply, again on ``host``; each run's result."""
    body = "\n".join("      " + line for line in case.task.strip().splitlines())
    extra = "".join(f"      {line}\n" for line in task_extra.strip().splitlines())
    book = write(workdir / f"{case.id}.yaml",
                 f"- hosts: {host}\n  gather_facts: false\n  tasks:\n    - name: {case.id}\n{extra}"
                 + ("      ignore_errors: true\n" if case.fails else "") + body + "\n")
    inventory = write(workdir / f"{host}.inventory.yaml", f"all:\n  hosts:\n    {host}:\n")
    before, results = observe(), {}
    for phase, flags in (("check", ("--check", "--diff")), ("apply", ("--diff",)), ("again", ())):
        outcome = play(book, *flags, inventory=inventory)
        assert outcome.rc == 0, (phase, outcome)
        res = results[phase] = outcome.results(case.id)[host]
        if case.fails:
            assert res["failed"] and case.fails in res["msg"], (phase, res)
        else:
            assert not res["failed"], (phase, res)
            assert res["changed"] == (case.changed and (phase != "again" or case.always)), (phase, res)
        if phase == "check":
            assert observe() == before, "--check changed the host"
    # A Type=simple unit is "started" once forked, before its daemon listens:
    # the state it reaches is looked for a few seconds, not at one instant.
    deadline = time.monotonic() + 10
    state = observe()
    while {k: state.get(k) for k in case.then} != case.then and time.monotonic() < deadline:
        time.sleep(0.2)
        state = observe()
    assert {k: state.get(k) for k in case.then} == case.then, state
    if case.diff is not None:
        from celeryroot.report.text import unified
        shown = unified(results["apply"]["diff"])
        assert case.diff in shown, shown
    return results
