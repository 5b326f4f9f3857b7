"""The README's commands run as written on a clone of this repository.

A block of commands the README marks with ``<!-- readme-test: NAME -->`` is
run here by bash, line for line; the only change is Redis' port (a free one
instead of 6379), so the test never meets a Redis of the machine's own.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, free_port

DEMO = Path("/tmp/celeryroot-demo")
#: The keys the demo makes (in the project directory, where the README runs).
DEMO_PKI = ROOT / "demo-pki"


def readme_block(name: str) -> str:
    """The indented block of commands after the README's marker ``name``."""
    text = (ROOT / "README.md").read_text()
    marker = f"<!-- readme-test: {name} -->"
    assert marker in text, f"README.md has no block marked {marker}"
    lines = []
    for line in text.split(marker, 1)[1].lstrip("\n").splitlines():
        if not line.startswith("    "):
            break
        lines.append(line[4:])
    assert lines, f"the block after {marker} is empty"
    return "\n".join(lines) + "\n"


def recaps(stdout: str) -> list[dict[str, str]]:
    """Each PLAY RECAP's greppable lines, as {host: line}."""
    out = []
    for part in stdout.split("PLAY RECAP")[1:]:
        found = re.findall(r"^(\S+)\s+: (ok=.*)$", part, re.M)
        out.append(dict(found))
    return out


def test_three_workers_on_one_machine(tmp_path):
    script = readme_block("three-workers").replace("6379", str(free_port()))
    # The venv the README activates is the one running these tests.
    venv = Path(sys.prefix)
    script = script.replace(". .venv/bin/activate", f". {venv}/bin/activate")
    shutil.rmtree(DEMO, ignore_errors=True)
    shutil.rmtree(DEMO_PKI, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELERYROOT_") or k == "CELERYROOT_HISTORY"}
    try:
        proc = subprocess.run(["bash", "-e", "-c", script], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=180)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        check, apply, again = recaps(proc.stdout)
        # --limit 'web:!web2' --tags config --check: web1 alone, predicted, nothing written
        assert set(check) == {"web1"}, proc.stdout
        assert "changed=2 " in check["web1"], proc.stdout
        # the real run makes the changes (the handler's debug is one more ok)...
        assert set(apply) == {"web1", "web2", "db1"}, proc.stdout
        assert "changed=2 " in apply["web1"] and "changed=2 " in apply["db1"], proc.stdout
        assert (DEMO / "db1" / "db.conf").read_text() == "port = 5433\n"
        assert "port = 8082" in (DEMO / "web2" / "app.conf").read_text()
        assert "database = db1:5433" in (DEMO / "web2" / "app.conf").read_text()
        # ...and a second run finds nothing to do.
        assert all("changed=0 " in line and "failed=0 " in line for line in again.values()), proc.stdout
    finally:
        shutil.rmtree(DEMO, ignore_errors=True)
        shutil.rmtree(DEMO_PKI, ignore_errors=True)


def test_base_playbook_check_in_embedded_mode(tmp_path):
    """The quick start's play, predicted on this machine with no broker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELERYROOT_") or k == "CELERYROOT_HISTORY"}
    proc = subprocess.run([str(Path(sys.prefix) / "bin" / "celeryroot-play"), "playbooks/base.yaml", "--check"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first, second = proc.stdout.splitlines()[:2]
    assert re.fullmatch(r"run [0-9a-f]{12}: celeryroot-play playbooks/base.yaml --check", first), proc.stdout
    assert second.startswith("embedded local mode"), proc.stdout
    (recap,) = recaps(proc.stdout)
    assert set(recap) == {"localhost"} and "failed=0 " in recap["localhost"], proc.stdout
