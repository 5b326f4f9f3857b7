"""How each play runs when nothing says: whole-play bundles, unless
something in it ties the hosts together (engine/execution.py). Each
feature that forces linear does so with its reason, naming where it is;
a written strategy is obeyed. That the bundles then mean the same as
linear is test_bundles.py's, with real workers."""

from __future__ import annotations

import pytest

from celeryroot.engine.execution import BUNDLES, LINEAR, choose
from celeryroot.lang.inventories import load_inventory

from .conftest import REGISTRY, load

INVENTORY = "[web]\nweb1\nweb2\n[db]\ndb1\n"
TASK = "    - file: path=/tmp/x state=directory\n"


def execution(tmp_path, text: str, strategy=None, bundles=None, inventory=INVENTORY, extra_vars=None):
    (tmp_path / "hosts").write_text(inventory)
    (play,) = load(tmp_path, text)
    return choose(play, strategy, bundles, REGISTRY, load_inventory([str(tmp_path / "hosts")]),
                  ["web1", "web2", "db1"], extra_vars or {})


def test_a_play_of_per_host_tasks_runs_as_bundles(tmp_path):
    chosen = execution(tmp_path, "- hosts: all\n  tasks:\n" + TASK +
                       "    - debug: msg=\"{{ inventory_hostname }} in {{ groups['web'] }}\"\n"
                       "      when: \"'web' in group_names\"\n")
    assert (chosen.mode, chosen.why) == (BUNDLES, "nothing in it depends on other hosts")
    assert chosen.line(type("P", (), {"name": "web"})) == \
        "play 'web': whole-play bundles (nothing in it depends on other hosts)"


@pytest.mark.parametrize("play, why", [
    ("  serial: 1\n  tasks:\n" + TASK, "sets serial"),
    ("  any_errors_fatal: true\n  tasks:\n" + TASK, "sets any_errors_fatal"),
    ("  max_fail_percentage: 10\n  tasks:\n" + TASK, "sets max_fail_percentage"),
    ("  tasks:\n" + TASK + "    - name: once\n      command: date\n      run_once: true\n",
     "task 'once' at {book}:4:7 uses run_once"),
    ("  run_once: true\n  tasks:\n" + TASK, "uses run_once"),
    ("  tasks:\n    - block:\n" + TASK.replace("    -", "        -") + "      any_errors_fatal: true\n",
     "uses any_errors_fatal: its failure on one host stops every host"),
    ("  tasks:\n    - block:\n" + TASK.replace("    -", "        -") + "      run_once: true\n", "uses run_once"),
    ("  tasks:\n" + TASK + "      notify: h\n  handlers:\n    - name: h\n      command: date\n      run_once: true\n",
     "task 'h' at {book}:6:7 uses run_once"),
    ("  tasks:\n" + TASK + "    - meta: end_play\n      when: inventory_hostname == 'web1'\n",
     "uses meta: end_play"),
    ("  tasks:\n    - name: peer\n      command: echo {{ hostvars['web1'].x }}\n",
     "task 'peer' at {book}:3:7 reads hostvars, of other hosts"),
    ("  tasks:\n    - debug: var=hostvars\n" + TASK, "of other hosts"),
    ("  tasks:\n" + TASK + "      when: ansible_play_hosts | length > 2\n", "of other hosts"),
    ("  tasks:\n" + TASK + "      loop: \"{{ play_hosts }}\"\n", "of other hosts"),
    ("  tasks:\n" + TASK + "      when: inventory_hostname == ansible_play_batch[0]\n", "of other hosts"),
    ("  tasks:\n    - command: echo {{ lookup('env', 'HOME') }}\n", "the lookup env, which runs on the controller"),
    ("  vars:\n    first: \"{{ play_hosts[0] }}\"\n  tasks:\n" + TASK, "the play vars read play_hosts"),
    ("  vars:\n    here: \"{{ playbook_dir }}/here\"\n  tasks:\n" + TASK, "the play vars read playbook_dir"),
    ("  tasks:\n    - copy: content={{ playbook_dir }} dest=/tmp/x\n", "reads playbook_dir, of the controller"),
    ("  gather_facts: false\n  tasks:\n    - debug: msg=hi\n    - set_fact: x=1\n",
     "every task runs on the controller"),
])
def test_each_feature_that_ties_the_hosts_together_runs_linearly_and_says_why(tmp_path, play, why):
    chosen = execution(tmp_path, "- hosts: all\n" + play)
    assert chosen.mode == LINEAR
    assert why.format(book=tmp_path / "book.yaml") in chosen.why, chosen.why


def test_inventory_variables_and_extra_vars_that_read_other_hosts_run_linearly(tmp_path):
    book = "- hosts: all\n  tasks:\n" + TASK
    peer = execution(tmp_path, book, inventory=INVENTORY.replace("db1", "db1 peer=\"{{ hostvars['web1'] }}\""))
    assert peer.mode == LINEAR and "db1's inventory variables read hostvars" in peer.why
    extra = execution(tmp_path, book, extra_vars={"x": "{{ play_hosts }}"})
    assert extra.mode == LINEAR and "extra vars read play_hosts" in extra.why


def test_a_template_file_that_reads_other_hosts_runs_linearly(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "peers.j2").write_text("{% for h in ansible_play_hosts %}{{ h }}\n{% endfor %}")
    chosen = execution(tmp_path, "- hosts: all\n  tasks:\n    - template: src=peers.j2 dest=/tmp/peers\n")
    assert chosen.mode == LINEAR and "a template of the play reads ansible_play_hosts" in chosen.why


@pytest.mark.parametrize("strategy, bundles, play, expected", [
    ("linear", None, "", (LINEAR, "--strategy linear")),
    ("linear", True, "  strategy: free\n", (LINEAR, "--strategy linear")),
    ("free", False, "  strategy: linear\n", (BUNDLES, "--strategy free")),
    (None, True, "  strategy: linear\n", (LINEAR, "the play says strategy: linear")),
    (None, False, "  strategy: free\n", (BUNDLES, "the play says strategy: free")),
    (None, False, "", (LINEAR, "bundles: false in the configuration")),
    (None, True, "", (BUNDLES, "bundles: true in the configuration")),
])
def test_a_written_strategy_is_obeyed_the_command_line_first(tmp_path, strategy, bundles, play, expected):
    chosen = execution(tmp_path, "- hosts: all\n" + play + "  tasks:\n" + TASK, strategy, bundles)
    assert (chosen.mode, chosen.why) == expected


def test_bundles_asked_for_still_run_run_once_linearly_but_not_serial(tmp_path):
    once = execution(tmp_path, "- hosts: all\n  strategy: free\n  tasks:\n" + TASK + "      run_once: true\n")
    assert once.mode == LINEAR and "uses run_once" in once.why
    serial = execution(tmp_path, "- hosts: all\n  serial: 1\n  tasks:\n" + TASK, "free")
    assert (serial.mode, serial.why) == (BUNDLES, "--strategy free")


@pytest.mark.parametrize("strategy", [None, "free"])
def test_a_fetch_whose_dest_is_known_before_the_run_goes_in_bundles(tmp_path, strategy):
    chosen = execution(tmp_path, "- hosts: all\n  vars: {keys: keys}\n  tasks:\n" + TASK + "    - name: keys\n"
                       "      ansible.builtin.fetch: src=/etc/hostname dest={{ keys }}/{{ inventory_hostname }}/\n"
                       "        flat=yes\n", strategy)
    assert chosen.mode == BUNDLES, chosen


@pytest.mark.parametrize("strategy", [None, "free"])
@pytest.mark.parametrize("dest, named", [("{{ item }}", "its dest"), ("{{ out.stdout }}/", "its dest")])
def test_a_fetch_whose_dest_is_known_when_it_runs_runs_linearly_even_when_bundles_are_asked_for(
        tmp_path, strategy, dest, named):
    chosen = execution(tmp_path, "- hosts: all\n  tasks:\n" + TASK + "    - command: pwd\n      register: out\n"
                       f"    - name: keys\n      ansible.builtin.fetch: src=/etc/hostname dest={dest}\n"
                       "      loop: [a]\n", strategy)
    assert chosen.mode == LINEAR and "task 'keys'" in chosen.why and \
        f"uses fetch with {named}, known only when it runs: the controller writes the file it brings back" \
        in chosen.why, chosen


