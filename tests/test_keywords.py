"""Play, block and task keywords a playbook written for SSH uses, on real
workers (issue 13, item 7): each is accepted with the meaning the README's
"Keywords without SSH" table gives it."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time

import pytest

from conftest import write
from support import controller_env

GHOSTS = "all:\n  hosts:\n    ghost1: {}\n"


@pytest.fixture(params=["linear", "free"])
def strategy(request):
    return request.param


def test_connection_keywords_are_accepted_and_said_to_be_ignored(fleet, play, tmp_path, fleet_inventory, strategy):
    book = write(tmp_path / "site.yml", f"""
- hosts: web1
  strategy: {strategy}
  gather_facts: false
  connection: local
  remote_user: deploy
  port: 2222
  become: true
  become_user: root
  become_method: sudo
  become_flags: -H -S
  collections: [ansible.builtin]
  debugger: never
  tasks:
    - block:
        - name: made
          file: path={{{{ root }}}} state=directory
          delegate_facts: true
          debugger: on_failed
      connection: docker
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert out.results("made")["web1"]["changed"] is True
    notes = [line for line in out.stderr.splitlines() if "[WARNING]" in line]
    assert any(re.search(r"site\.yml:6:16: remote_user 'deploy' is ignored", n) for n in notes), notes
    assert any("connection 'docker' is ignored" in n for n in notes), notes
    assert any("debugger is ignored" in n for n in notes), notes
    assert not any("connection 'local'" in n or "port" in n for n in notes), notes


@pytest.mark.parametrize("text, message", [
    ("- hosts: all\n  become: true\n  become_user: postgres\n  tasks: [apt: {name: hello}]\n",
     r"site\.yml:4:11: task 'apt': become_user 'postgres' is not supported for module 'apt'"),
    ("- hosts: all\n  tasks:\n    - ping:\n      timeout: soon\n", r"site\.yml:4:16: 'timeout' must be a whole number"),
    ("- hosts: all\n  tasks:\n    - ping:\n      throttle: -1\n", r"site\.yml:4:17: 'throttle' must be a whole number"),
    ("- hosts: all\n  vars: {limit: soon}\n  tasks:\n    - ping:\n      timeout: '{{ limit }}'\n",
     r"site\.yml:4:7: task 'ping' for host 'ghost1': 'timeout' must be a whole number of 0 or more, got 'soon'"),
    ("- hosts: all\n  order: random\n  tasks: []\n", r"site\.yml:2:10: unknown order 'random' \(use: inventory, "),
    ("- hosts: all\n  debugger: sometimes\n  tasks: []\n", r"site\.yml:2:13: 'debugger' must be one of: always"),
    ("- hosts: all\n  gather_subset: [everything]\n  tasks: []\n", r"site\.yml:2:18: setup: .*bad subset 'everything'"),
    ("- hosts: all\n  module_defaults:\n    file: {mod: '0644'}\n  tasks:\n    - file: path=/x\n",
     r"site\.yml:3:12: file: unsupported argument 'mod'"),
    ("- hosts: all\n  vars_prompt:\n    - name: release\n  tasks: []\n",
     r"site\.yml:3:7: vars_prompt 'release' has no answer and there is no terminal to ask on: give it with -e "
     r"release=VALUE"),
    ("- hosts: all\n  vars_prompt:\n    - {name: pw, encrypt: sha512_crypt}\n  tasks: []\n",
     r"site\.yml:3:27: vars_prompt: hashing an answer \(encrypt\) is not supported"),
])
def test_keywords_that_cannot_mean_what_they_say_are_refused(play, tmp_path, text, message):
    inventory = write(tmp_path / "inventory.yaml", GHOSTS)
    book = write(tmp_path / "site.yml", text)
    out = play(book, inventory=inventory, json_out=False)
    assert out.rc == 1, out
    assert re.search(message, out.stderr), out.stderr
    assert "Traceback" not in out.stderr


def test_timeout_stops_the_module_call_and_fails_the_task(fleet, play, tmp_path, fleet_inventory, strategy):
    marker = tmp_path / "still-running"
    book = write(tmp_path / "site.yml", f"""
- hosts: web1
  strategy: {strategy}
  gather_facts: false
  vars: {{limit: 1}}
  tasks:
    - name: slow
      command: sh -c 'sleep 30; touch {marker}'
      timeout: "{{{{ limit }}}}"
      ignore_errors: true
    - name: after
      command: "true"
      timeout: 20
""")
    started = time.monotonic()
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert time.monotonic() - started < 20
    slow = out.results("slow")["web1"]
    assert slow["failed"] is True and slow["msg"] == "Timed out after 1 second(s).", slow
    assert slow["timedout"] == {"period": 1}
    assert out.results("after")["web1"]["failed"] is False
    time.sleep(1)
    assert not marker.exists()


def test_throttle_runs_at_most_that_many_hosts_at_once(fleet, play, tmp_path, fleet_inventory):
    spans = tmp_path / "spans"
    book = write(tmp_path / "site.yml", f"""
- hosts: web1,web2,db1
  strategy: free
  gather_facts: false
  tasks:
    - name: one at a time
      command: sh -c 'echo "$(date +%s.%N) {{{{ inventory_hostname }}}} start" >> {spans}; sleep 0.4; echo "$(date +%s.%N) {{{{ inventory_hostname }}}} end" >> {spans}'
      throttle: 1
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    (execution,) = [p["play"]["execution"] for p in out.doc["plays"]]
    assert execution["mode"] == "linear" and "uses throttle" in execution["why"], execution
    events = [line.split()[1:] for line in sorted(spans.read_text().splitlines(), key=lambda l: float(l.split()[0]))]
    running = 0
    for _, what in events:
        running += 1 if what == "start" else -1
        assert running <= 1, events
    assert len(events) == 6


@pytest.mark.parametrize("order, expected", [
    ("inventory", ["web1", "web2", "db1"]), ("reverse_inventory", ["db1", "web2", "web1"]),
    ("sorted", ["db1", "web1", "web2"]), ("reverse_sorted", ["web2", "web1", "db1"]),
])
def test_order_orders_the_hosts(fleet, play, tmp_path, fleet_inventory, order, expected):
    log = tmp_path / "order"
    book = write(tmp_path / "site.yml", f"""
- hosts: web
  gather_facts: false
  tasks: []
- hosts: web1,web2,db1
  order: {order}
  serial: 1
  gather_facts: false
  tasks:
    - command: sh -c 'echo {{{{ inventory_hostname }}}} >> {log}'
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert log.read_text().split() == expected


def test_shuffle_runs_every_host_once(fleet, play, tmp_path, fleet_inventory):
    book = write(tmp_path / "site.yml", "- hosts: web1,web2,db1\n  order: shuffle\n  gather_facts: false\n"
                                        "  tasks:\n    - ping:\n")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0 and sorted(out.results("ping")) == ["db1", "web1", "web2"], out


def test_module_defaults_per_play_block_and_task(fleet, play, tmp_path, fleet_inventory, strategy):
    root = tmp_path / "hosts/web1"
    book = write(tmp_path / "site.yml", f"""
- hosts: web1
  strategy: {strategy}
  gather_facts: false
  module_defaults:
    file: {{state: directory, mode: "0700"}}
  tasks:
    - file: path={root}
    - file: path={root}/play
    - block:
        - file: path={root}/block
        - file: path={root}/task
          module_defaults:
            ansible.builtin.file: {{mode: "0711"}}
        - file: path={root}/own mode=0755
      module_defaults:
        file: {{mode: "0750"}}
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    modes = {name: oct((root / name).stat().st_mode & 0o777) for name in ("play", "block", "task", "own")}
    assert modes == {"play": "0o700", "block": "0o750", "task": "0o711", "own": "0o755"}


def test_vars_prompt_takes_extra_vars_then_defaults(fleet, play, tmp_path, fleet_inventory):
    book = write(tmp_path / "site.yml", """
- hosts: web1
  gather_facts: false
  vars_prompt:
    - name: release
      prompt: Which release?
    - name: colour
      prompt: Colour
      default: blue
      private: false
  tasks:
    - name: said
      debug: msg="{{ release }} {{ colour }}"
""")
    out = play(book, "-e", "release=7", inventory=fleet_inventory)
    assert out.rc == 0, out
    assert out.results("said")["web1"]["msg"] == "7 blue"
    listed = play(book, "--list-tasks", inventory=fleet_inventory, json_out=False)
    assert listed.rc == 0, listed


def test_facts_keywords_reach_the_gathering(fleet, play, tmp_path, fleet_inventory, strategy):
    facts = write(tmp_path / "facts.d/app.fact", json.dumps({"tier": "gold"}))
    write(tmp_path / "facts.d/site.fact", "[where]\nrack = r7\n")
    script = write(tmp_path / "facts.d/live.fact", "#!/bin/sh\necho '{\"ok\": true}'\n")
    script.chmod(0o755)
    book = write(tmp_path / "site.yml", f"""
- hosts: web1
  strategy: {strategy}
  gather_subset: [min]
  gather_timeout: 5
  fact_path: {facts.parent}
  tasks:
    - name: local
      debug: msg="{{{{ ansible_local.app.tier }}}} {{{{ ansible_local.site.where.rack }}}} {{{{ ansible_local.live.ok }}}} {{{{ ansible_facts.gather_subset }}}} {{{{ ansible_facts.default_ipv4 is defined }}}}"
""")
    # The session's earlier plays gathered every subset on web1, and the fact
    # cache keeps them: a linear play starts from the cache and what it gathers
    # joins it, as in Ansible with a fact cache (celeryroot.facts.web1).
    fleet.client.delete("celeryroot.facts.web1")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert out.results("local")["web1"]["msg"] == "gold r7 True ['min'] False"


def test_a_role_parameter_named_as_a_keyword_stays_a_parameter(fleet, play, tmp_path, fleet_inventory):
    write(tmp_path / "roles/web/tasks/main.yml", "- name: port\n  debug: msg=\"{{ port }}\"\n")
    book = write(tmp_path / "site.yml", "- hosts: web1\n  gather_facts: false\n  vars: {p: 8080}\n"
                                        "  roles:\n    - {role: web, port: '{{ p }}'}\n")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert out.results("web : port")["web1"]["msg"] == 8080


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1) from util-linux for a terminal")
def test_vars_prompt_asks_on_a_terminal(fleet, redis_server, tmp_path, fleet_inventory):
    """On a terminal (script(1) gives the controller one), each prompt is
    asked: typed answers, a private one confirmed, an empty one the default."""
    book = write(tmp_path / "site.yml", """
- hosts: web1
  gather_facts: false
  vars_prompt:
    - {name: release, prompt: 'Which release?', private: false}
    - {name: secret, prompt: Password, confirm: true}
    - {name: colour, default: blue, private: false}
  tasks:
    - name: said
      debug: msg="{{ release }}-{{ secret }}-{{ colour }}"
""")
    command = shlex.join([sys.executable, "-m", "celeryroot.cli.play", str(book), "-i", str(fleet_inventory), "--json"])
    proc = subprocess.Popen(["script", "-qec", command, "/dev/null"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=tmp_path, env=controller_env(redis_server.url))
    seen = b""
    try:
        # Each answer once its prompt is up: hiding the typing flushes what came before.
        for prompt, answer in (("Which release?: ", b"7"), ("Password: ", b"pw"), ("confirm Password: ", b"pw"),
                               ("colour [blue]: ", b"")):
            seen = _read_until(proc, seen, prompt.encode())
            proc.stdin.write(answer + b"\r")
            proc.stdin.flush()
        seen = _read_until(proc, seen, b"\"stats\"")
    finally:
        proc.kill()
        proc.wait()
    text = seen.decode(errors="replace")
    assert '"msg": "7-pw-blue"' in text, text
    assert b"pw" not in seen.split(b"Password: ")[1].split(b"confirm")[0], "a private answer was echoed"


def _read_until(proc, seen: bytes, wanted: bytes, timeout: float = 60) -> bytes:
    """The controller's output so far, read until ``wanted`` has come after what was ``seen``."""
    import os
    import select

    start = len(seen)
    deadline = time.monotonic() + timeout
    while wanted not in seen[start:]:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(proc.stdout.fileno(), 4096) if ready else b""
        if not chunk:
            raise AssertionError(f"no {wanted!r} in the output: {seen.decode(errors='replace')}")
        seen += chunk
    return seen
