"""In-process tests of the pure layers: parsing, selection, the step, argument
specs, templating and modules on a temporary directory. No Redis and no
workers, so the whole directory runs in seconds; the end-to-end tests one
level up prove the same pieces together.

The helpers below are the only places that know how the layers are called,
so a change of signature is mended here, not in every test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from celeryroot.engine.runner import run_call
from celeryroot.engine.step import Mode, prepare
from celeryroot.lang.playbook import load_playbook
from celeryroot.registry import Registry

REGISTRY = Registry()


def _no_real_parts(name: str):
    @pytest.fixture(name=name)
    def refuse():
        pytest.fail(f"tests/unit runs without Redis or workers: '{name}' belongs in an end-to-end test")
    return refuse


redis_server, fleet, workers, play = map(_no_real_parts, ("redis_server", "fleet", "workers", "play"))


def load(tmp_path: Path, text: str):
    """The plays of a playbook written to ``tmp_path``."""
    path = tmp_path / "book.yaml"
    path.write_text(text)
    return load_playbook(path, REGISTRY).plays


def tasks(tmp_path: Path, body: str) -> list:
    """The tasks of one play whose ``tasks:`` section is ``body`` (YAML at column 0)."""
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return load(tmp_path, f"- hosts: all\n  gather_facts: false\n  tasks:\n{indented}\n")[0].tasks


def expand(task, variables: dict | None = None, check: bool = False):
    """What the step makes of a task for one host: the prepared calls, or a result."""
    return prepare(task, variables or {}, Mode(check=check), REGISTRY)


def run(module: str, check: bool = False, diff: bool = False, **args) -> dict:
    """One module call on this machine, as a worker runs it."""
    res, _ = run_call(REGISTRY, {"module": module, "args": args, "check": check, "diff": diff})
    return res
