"""``delegate_to``, ``local_action``, ``delegate_facts`` and ``run_once``
with a delegate (issue 13, item 10), on real workers: a host's task,
rendered with the host's variables, runs on another host's worker (or on
the controller for localhost) and is the host's result."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from conftest import write
from support import controller_env, push, wait_for


def calls(workers, host: str, marker: str) -> list[dict]:
    """``host``'s audited calls whose arguments mention ``marker``."""
    return [r for r in workers.audit(host) if r.get("kind", r.get("event")) != "refused" and marker in json.dumps(r)]


def test_a_delegated_task_runs_on_the_delegate_with_the_hosts_variables(fleet, play, tmp_path, fleet_inventory):
    marker = f"deleg-{time.monotonic_ns()}"
    book = write(tmp_path / "site.yml", f"""
- hosts: web
  gather_facts: false
  tasks:
    - name: there
      command: echo {marker} {{{{ inventory_hostname }}}} {{{{ root }}}}
      delegate_to: db1
    - name: templated
      command: echo {marker}-t {{{{ inventory_hostname }}}}
      delegate_to: "{{{{ groups['db'][0] }}}}"
    - name: here
      command: echo {marker}-h {{{{ inventory_hostname }}}}
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    there = out.results("there")
    for host in ("web1", "web2"):
        assert there[host]["stdout"] == f"{marker} {host} {tmp_path}/hosts/{host}"
        assert there[host]["_delegated_to"] == "db1"
        assert out.results("templated")[host]["stdout"] == f"{marker}-t {host}"
        assert "_delegated_to" not in out.results("here")[host]
    # db1's worker ran both hosts' delegated calls; theirs ran only their own.
    assert len(calls(fleet, "db1", f"{marker} ")) == 2 and len(calls(fleet, "db1", f"{marker}-t")) == 2
    assert not calls(fleet, "web1", f"{marker} ") and len(calls(fleet, "web1", f"{marker}-h")) == 1
    assert out.doc["plays"][0]["play"]["execution"]["mode"] == "linear"
    plain = play(book, inventory=fleet_inventory, json_out=False)
    assert "[web1 -> db1]" in plain.stdout and "[web2 -> db1]" in plain.stdout, plain


def test_localhost_and_local_action_run_on_the_controller(fleet, play, tmp_path, fleet_inventory):
    book = write(tmp_path / "site.yml", f"""
- hosts: web1
  gather_facts: false
  tasks:
    - name: local
      shell: echo "{{{{ inventory_hostname }}}} $PPID" > {tmp_path}/local-{{{{ inventory_hostname }}}}
      delegate_to: localhost
    - name: action
      local_action: command echo {{{{ inventory_hostname }}}} via local_action
    - name: action mapping
      local_action:
        module: copy
        content: "copied for {{{{ inventory_hostname }}}}"
        dest: "{tmp_path}/copied"
    - name: loopback
      command: echo loop
      delegate_to: 127.0.0.1
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert (tmp_path / "local-web1").read_text().split()[0] == "web1"
    assert out.results("action")["web1"]["stdout"] == "web1 via local_action"
    assert (tmp_path / "copied").read_text() == "copied for web1"
    for name in ("local", "action", "action mapping", "loopback"):
        assert out.results(name)["web1"]["_delegated_to"] == "localhost", name
    assert not calls(fleet, "web1", str(tmp_path / "local-web1")) and not calls(fleet, "web1", "via local_action")


def test_delegate_facts_go_to_the_delegate(fleet, play, tmp_path, fleet_inventory):
    book = write(tmp_path / "site.yml", """
- hosts: web1
  gather_facts: false
  tasks:
    - name: to the delegate
      set_fact: {seen_by: "{{ inventory_hostname }}"}
      delegate_to: db1
      delegate_facts: true
    - name: to the host
      set_fact: {mine: true}
      delegate_to: db1
    - name: gathered for the delegate
      setup: {gather_subset: [min]}
      delegate_to: db1
      delegate_facts: true
    - assert:
        that:
          - hostvars['db1'].seen_by == 'web1'
          - seen_by is not defined
          - mine
          - hostvars['db1'].mine is not defined
          - hostvars['db1'].ansible_facts.hostname is defined
""")
    # (web1's own gathered facts may be in the fact cache from other tests: not asserted)
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out


def test_run_once_with_delegate_to(fleet, play, tmp_path, fleet_inventory):
    marker = f"once-{time.monotonic_ns()}"
    book = write(tmp_path / "site.yml", f"""
- hosts: web
  gather_facts: false
  tasks:
    - name: once
      command: echo {marker} {{{{ inventory_hostname }}}}
      run_once: true
      delegate_to: db1
      register: once
    - assert:
        that: once.stdout == '{marker} web1'
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert list(out.results("once")) == ["web1"]
    assert len(calls(fleet, "db1", marker)) == 1


def test_a_delegate_without_a_worker_or_not_in_the_inventory(fleet, play, tmp_path, fleet_inventory):
    book = write(tmp_path / "site.yml", """
- hosts: web
  gather_facts: false
  tasks:
    - name: away
      command: "true"
      delegate_to: db2
      when: inventory_hostname == 'web1'
    - name: unknown
      command: "true"
      delegate_to: "{{ 'nowhere' }}"
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc != 0
    away = out.results("away")["web1"]
    assert away["unreachable"] and away["msg"].startswith("its delegate db2: "), away
    unknown = out.results("unknown")["web2"]
    assert unknown["failed"] and "delegate_to 'nowhere' is not a host of the inventory" in unknown["msg"], unknown


def test_a_delegated_reply_counts_only_signed_by_the_delegate(workers, tmp_path, redis_server):
    """While the delegate runs the host's slow task, replies for it signed
    by the host itself (whose task it is) are pushed into the run's reply
    queue: a SECURITY ERROR for the host, never its result."""
    from celeryroot import pki
    from celeryroot.envelope import HostSeal

    workers.start("dorig", "ddel")
    inventory = write(tmp_path / "inv.yaml", "all:\n  hosts:\n    dorig:\n    ddel:\n")
    book = write(tmp_path / "p.yaml", "- hosts: dorig\n  gather_facts: false\n  tasks:\n"
                                      "    - name: slow\n      command: sleep 3\n      delegate_to: ddel\n")
    proc = subprocess.Popen([sys.executable, "-m", "celeryroot.cli.play", str(book), "-i", str(inventory), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env=controller_env(redis_server.url))
    client = redis_server.client
    keys = wait_for(lambda: [k for k in client.keys("celeryroot.lease.*") if client.get(k) != b"test"], 10,
                    "the run's lease")
    run_id = keys[0].decode().rsplit(".", 1)[1]
    time.sleep(0.5)
    own = workers.pki.host("dorig")
    forged = {"results": [{"status": "ok", "changed": False, "failed": False, "skipped": False, "msg": "FORGED"}]}
    for claims in ("dorig", "ddel"):  # as itself, and claiming to be the delegate
        seal = HostSeal(pki.load_identity(own, "host"), pki.Trust(own), claims)
        for seq in range(2):
            task_id = f"{run_id}.{seq}.ddel"
            push(client, f"celeryroot.reply.{run_id}", "", [], task_id,
                 status_reply={"task_id": task_id, "status": "SEALED",
                               "result": seal.seal_reply(task_id, "SUCCESS", forged)})
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2, stdout + stderr
    res = json.loads(stdout)["plays"][0]["tasks"][0]["hosts"]["dorig"]
    assert "SECURITY ERROR" in res["msg"] and "not signed by ddel" in res["msg"], res
    assert "FORGED" not in stdout


def test_a_delegate_named_outside_the_inventory_is_refused_before_the_run(play, tmp_path, fleet_inventory):
    book = write(tmp_path / "site.yml", "- hosts: web\n  tasks:\n    - name: t\n      command: 'true'\n"
                                        "      delegate_to: nowhere\n")
    out = play(book, inventory=fleet_inventory, json_out=False)
    assert out.rc != 0
    assert "site.yml:3:7: task 't': delegate_to 'nowhere' is not a host of the inventory" in out.stderr, out


def test_delegate_to_may_name_a_host_per_loop_item(fleet, play, tmp_path, fleet_inventory):
    marker = f"items-{time.monotonic_ns()}"
    book = write(tmp_path / "site.yml", f"""
- hosts: web1
  gather_facts: false
  tasks:
    - name: one
      command: echo {{{{ item }}}}
      loop: [db1, db1]
      delegate_to: "{{{{ item }}}}"
    - name: several
      command: echo {marker} {{{{ item }}}} for {{{{ inventory_hostname }}}}
      loop: [db1, web2, web2, localhost, db1]
      delegate_to: "{{{{ item }}}}"
      register: several
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert out.results("one")["web1"]["_delegated_to"] == "db1"
    assert [r["stdout"] for r in out.results("one")["web1"]["results"]] == ["db1", "db1"]
    items = out.results("several")["web1"]["results"]
    assert [r["stdout"] for r in items] == [f"{marker} {h} for web1" for h in ("db1", "web2", "web2", "localhost", "db1")]
    assert [r["_delegated_to"] for r in items] == ["db1", "web2", "web2", "localhost", "db1"]
    assert len(calls(fleet, "db1", marker)) == 2 and len(calls(fleet, "web2", marker)) == 2
    assert not calls(fleet, "web1", marker)


def test_an_import_and_a_role_entry_pass_delegate_to_and_run_once_to_their_tasks(fleet, play, tmp_path,
                                                                                  fleet_inventory):
    marker = f"inh-{time.monotonic_ns()}"
    write(tmp_path / "inner.yml", f"""
- name: imported
  command: echo {marker}-i {{{{ inventory_hostname }}}}
""")
    for role in ("r", "once"):
        write(tmp_path / "roles" / role / "tasks" / "main.yml", f"""
- name: in {role}
  command: echo {marker}-{role} {{{{ inventory_hostname }}}}
""")
    book = write(tmp_path / "site.yml", f"""
- hosts: web
  gather_facts: false
  roles:
    - role: r
      delegate_to: db1
  tasks:
    - import_tasks: inner.yml
      delegate_to: db1
    - import_role:
        name: once
      delegate_to: db1
      run_once: true
""")
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    for host in ("web1", "web2"):
        assert out.results("imported")[host]["_delegated_to"] == "db1"
        assert out.results("imported")[host]["stdout"] == f"{marker}-i {host}"
    # db1's worker ran them all: two hosts' imported task, two hosts' role
    # entry task, and the run_once import_role once.
    assert len(calls(fleet, "db1", f"{marker}-i")) == 2
    assert len(calls(fleet, "db1", f"{marker}-r ")) == 2 and len(calls(fleet, "db1", f"{marker}-once")) == 1
    assert not calls(fleet, "web1", marker) and not calls(fleet, "web2", marker)
    assert out.doc["plays"][0]["play"]["execution"]["mode"] == "linear"
