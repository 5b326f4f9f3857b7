"""Whole-play bundles: one message per host, results streamed as they happen.

That a bundle means the same as the linear run is proven by
test_language.py, which runs every playbook both ways: keep it so. A
feature of the language is done when both runs agree, and the parity run
is what catches the engine being written twice.
"""

from __future__ import annotations

import subprocess
import sys
import time

from conftest import write


def test_one_message_per_host_with_facts_and_results_streamed(workers, redis_server, tmp_path):
    workers.start("bundle1", "bundle2")
    inventory = write(tmp_path / "inv.yaml", "all:\n  hosts:\n    bundle1:\n    bundle2:\n")
    book = write(tmp_path / "free.yaml", f"""
- hosts: all
  strategy: free
  tasks:
    - name: first
      command: echo {{{{ ansible_hostname }}}}
    - name: slow
      command: sleep 1.5
    - name: last
      file: path={tmp_path}/{{{{ inventory_hostname }}}} state=directory
""")
    argv = [sys.executable, "-m", "celeryroot.cli.play", str(book), "-i", str(inventory), "--broker", redis_server.url]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    seen = {}
    for line in proc.stdout:
        seen.setdefault(line.strip(), time.monotonic() - started)
    proc.wait(30)
    ended = time.monotonic() - started
    assert proc.returncode == 0
    first = min(t for line, t in seen.items() if line.startswith("changed: [bundle"))
    # the first task's result is shown while the slow task still runs
    assert ended - first > 1.0, (first, ended)
    assert (tmp_path / "bundle1").is_dir() and (tmp_path / "bundle2").is_dir()
    for host in ("bundle1", "bundle2"):
        log = workers.log(host)
        assert log.count("celeryroot.play[") >= 1 and "celeryroot.run[" not in log, log[-2000:]


def test_bundle_host_lost_mid_play_is_unreachable(workers, redis_server, tmp_path, play):
    workers.start("steady2", "victim2")
    inventory = write(tmp_path / "inv.yaml", "all:\n  hosts:\n    steady2:\n    victim2:\n")
    book = write(tmp_path / "free.yaml", f"""
- hosts: all
  strategy: free
  gather_facts: false
  tasks:
    - name: slow
      command: sleep 3
    - name: after
      file: path={tmp_path}/{{{{ inventory_hostname }}}} state=directory
""")
    argv = [sys.executable, "-m", "celeryroot.cli.play", str(book), "-i", str(inventory), "--broker",
            redis_server.url, "--json"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    time.sleep(1.5)
    workers.procs["victim2"].kill()
    out, _ = proc.communicate(timeout=60)
    import json

    doc = json.loads(out)
    assert proc.returncode == 4
    assert doc["stats"]["victim2"]["unreachable"] == 1
    assert doc["stats"]["steady2"]["ok"] == 2
    assert (tmp_path / "steady2").is_dir() and not (tmp_path / "victim2").exists()
