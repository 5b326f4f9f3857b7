"""The same playbook run by ansible-playbook (``-c local``) and by
celeryroot (the embedded local mode), each in a directory of its own on this
machine: every task's status, in order, and the files each leaves behind
(modes and contents) must be the same.

ansible-core comes from its own virtualenv (``make test`` makes it,
.venv-ansible, from tests/requirements-ansible.txt; it is never a
dependency of celeryroot). Without it these tests are skipped, saying why.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, tree, write

ANSIBLE_PLAYBOOK = Path(os.environ.get("CELERYROOT_TEST_ANSIBLE", ROOT / ".venv-ansible/bin/ansible-playbook"))
CALLBACKS = Path(__file__).parent / "ansible_callbacks"


@pytest.fixture(scope="module")
def ansible_playbook() -> Path:
    if not ANSIBLE_PLAYBOOK.exists():
        pip_log = ANSIBLE_PLAYBOOK.parent.parent / "pip.log"
        why = pip_log.read_text().strip().splitlines()[-1:] if pip_log.exists() else []
        pytest.skip(f"ansible-core is not installed at {ANSIBLE_PLAYBOOK} (make test installs it from "
                    f"tests/requirements-ansible.txt{'; it could not: ' + why[0] if why else ''})")
    return ANSIBLE_PLAYBOOK


class Run:
    """One tool's run of a playbook: its exit status, the status of every
    task result in order (``(kind, task, status)``), and the files under
    its ``out`` directory."""

    def __init__(self, rc: int, statuses: list[tuple], files: dict, output: str):
        self.rc, self.statuses, self.files, self.output = rc, statuses, files, output

    def __repr__(self) -> str:
        return f"Run(rc={self.rc}, statuses={self.statuses}, output={self.output[-3000:]!r})"


def run_ansible(ansible_playbook: Path, workdir: Path, book: Path, args: tuple) -> Run:
    statuses = workdir / "statuses.jsonl"
    home = workdir / "ansible-home"
    env = {**os.environ, "ANSIBLE_HOME": str(home), "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
           "ANSIBLE_REMOTE_TEMP": str(home / "remote-tmp"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_DEPRECATION_WARNINGS": "0",
           "ANSIBLE_PYTHON_INTERPRETER": str(ansible_playbook.parent / "python"),
           "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS), "ANSIBLE_CALLBACKS_ENABLED": "celeryroot_statuses",
           "CELERYROOT_STATUSES": str(statuses)}
    proc = subprocess.run([str(ansible_playbook), "-c", "local", "-i", "localhost,", str(book), *args],
                          capture_output=True, text=True, cwd=workdir, env=env, timeout=300)
    lines = [json.loads(line) for line in statuses.read_text().splitlines()] if statuses.exists() else []
    return Run(proc.returncode, [(r["kind"], r["task"], r["status"]) for r in lines], tree(workdir / "out"),
               proc.stdout + proc.stderr)


def run_celeryroot(local_play, workdir: Path, book: Path, args: tuple) -> Run:
    out = local_play(book, "-i", "localhost,", *args)
    statuses = [(t["task"]["kind"], t["task"]["name"], _status(t["hosts"]["localhost"]))
                for p in (out.doc or {"plays": []})["plays"] for t in p["tasks"] if "localhost" in t["hosts"]]
    return Run(out.rc, statuses, tree(workdir / "out"), out.stdout[-3000:] + out.stderr)


def _status(res: dict) -> str:
    if res.get("unreachable"):
        return "unreachable"
    if res.get("failed"):
        return "ignored" if res.get("ignored") else "failed"
    return "skipped" if res.get("skipped") else "changed" if res.get("changed") else "ok"


@pytest.fixture
def both(ansible_playbook, local_play, tmp_path):
    """``both(playbook, files={...}, args=(...))``: the playbook (and the
    files beside it) written to a directory for each tool, run there with
    ``args``; the two runs are returned, Ansible's first. Tasks write
    under ``{{ playbook_dir }}/out``."""

    def run(playbook: str, files: dict | None = None, args: tuple = ()) -> tuple[Run, Run]:
        runs = []
        for tool in ("ansible", "celeryroot"):
            workdir = tmp_path / tool
            for rel, text in (files or {}).items():
                write(workdir / rel, text)
            book = write(workdir / "book.yml", playbook)
            (workdir / "out").mkdir()
            if tool == "ansible":
                runs.append(run_ansible(ansible_playbook, workdir, book, args))
            else:
                runs.append(run_celeryroot(local_play, workdir, book, args))
        return tuple(runs)

    return run


def same(ansible: Run, celeryroot: Run) -> None:
    assert ansible.rc == 0, ansible
    assert celeryroot.statuses == ansible.statuses, (celeryroot, ansible)
    assert celeryroot.files == ansible.files
    assert celeryroot.rc == ansible.rc, celeryroot


# -- 1. YAML as Ansible reads it: 1.1 whatever the document start says -------

@pytest.mark.parametrize("start", ["---", "--- # modes as Ansible users write them", "%YAML 1.2\n---",
                                   "%YAML 1.1\n---", ""])
def test_yaml_is_read_as_yaml_1_1_whatever_the_document_start(both, start):
    ansible, celeryroot = both(start + """
- hosts: all
  gather_facts: no
  vars:
    flag: on
  tasks:
    - name: a 0640 file
      copy: {content: "a\\n", dest: "{{ playbook_dir }}/out/a", mode: 0640}
    - name: a 0644 file
      copy: {content: "b\\n", dest: "{{ playbook_dir }}/out/b", mode: 0644}
    - name: a 0440 file
      copy:
        content: "c\\n"
        dest: "{{ playbook_dir }}/out/c"
        mode: 0440
    - name: no facts were gathered, and on is true
      assert: {that: ["ansible_facts.distribution is not defined", "flag is sameas true"]}
""")
    same(ansible, celeryroot)
    assert {name: mode[-3:] for name, (mode, *_) in celeryroot.files.items()} == {"a": "640", "b": "644", "c": "440"}
