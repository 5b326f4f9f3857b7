"""What a whole-play bundle carries of the other hosts: their names only
when the play may read them (groups, play_hosts, hostvars and the like),
else nothing beyond the host's own groups. Built in process, sent nowhere."""

from __future__ import annotations

from celeryroot.controller.bundles import BundleBatch
from celeryroot.engine.selection import Selection
from celeryroot.engine.state import RunState
from celeryroot.engine.step import Mode
from celeryroot.engine.strategy import Run
from celeryroot.lang.inventories import load_inventory
from celeryroot.lang.templating import reads_any
from celeryroot.lang.variables import HOST_LISTS

from .conftest import REGISTRY, load

INVENTORY = "[web]\nweb1\nweb2\n[db]\ndb1 peers=\"{{ groups['web'] }}\"\n"


def bundles(tmp_path, play_text: str, hosts=("web1", "web2", "db1"), extra_vars=None) -> dict[str, dict]:
    (tmp_path / "hosts").write_text(INVENTORY)
    inventory = load_inventory([str(tmp_path / "hosts")])
    (play,) = load(tmp_path, play_text)
    run = Run(inventory, REGISTRY, None, Mode(), extra_vars or {}, Selection(), RunState())
    batch = BundleBatch(run, play, list(hosts))
    batch.sent_facts, batch.places = {}, {}
    common = batch._common()
    reads = batch._reads_host_lists(common)
    return {host: batch._bundle(host, common, reads) for host in hosts}


def test_a_play_that_reads_no_host_list_carries_only_the_hosts_own_groups(tmp_path):
    sent = bundles(tmp_path, "- hosts: all\n  tasks:\n    - user: name=ops groups=wheel\n"
                             "      when: \"'web' in group_names\"\n", hosts=("web1", "web2"))
    assert sent["web1"]["groups"] == {"all": ["web1"], "web": ["web1"]}
    assert sent["web1"]["play_hosts"] is None
    assert "web2" not in str(sent["web1"])


def test_a_play_that_may_read_a_host_list_carries_them_all(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "peers.j2").write_text("{% for h in ansible_play_hosts %}{{ h }}\n{% endfor %}")
    for play in ("- hosts: all\n  tasks:\n    - debug: msg=hi\n      when: inventory_hostname in groups.web\n",
                 "- hosts: all\n  tasks:\n    - debug: var=play_hosts\n",
                 "- hosts: all\n  vars:\n    first: \"{{ hostvars | length }}\"\n  tasks:\n    - debug: var=first\n",
                 "- hosts: all\n  tasks:\n    - template: src=peers.j2 dest=/tmp/peers\n"):
        sent = bundles(tmp_path, play, hosts=("web1", "web2"))
        assert sent["web1"]["groups"]["web"] == ["web1", "web2"], play
        assert sent["web1"]["play_hosts"] == ["web1", "web2"], play


def test_a_hosts_own_variables_may_read_them_too(tmp_path):
    sent = bundles(tmp_path, "- hosts: all\n  tasks:\n    - debug: msg=hi\n")
    assert sent["db1"]["groups"]["web"] == ["web1", "web2"] and sent["db1"]["play_hosts"] == ["web1", "web2", "db1"]
    assert sent["web1"]["play_hosts"] is None
    extra = bundles(tmp_path, "- hosts: all\n  tasks:\n    - debug: msg=hi\n", extra_vars={"x": "{{ groups }}"})
    assert extra["web1"]["play_hosts"] == ["web1", "web2", "db1"]


def test_what_counts_as_reading():
    def reads(value, expressions=False):
        return reads_any(value, HOST_LISTS, expressions)

    assert reads("{{ groups.web }}") and reads("x in play_hosts", expressions=True)
    assert not reads("x in play_hosts")  # a variable's plain value is never evaluated
    assert reads("{% for h in ansible_play_batch %}{{ h }}{% endfor %}")
    assert reads("{{ hostvars[inventory_hostname].x }}") and reads(["a", {"b": "{{ ansible_play_hosts_all }}"}])
    assert reads("{{ unclosed")  # what does not parse may read anything
    assert not reads("{% set groups = [1] %}{{ groups }}")  # a template's own variable
    assert not reads({"groups": "wheel", "name": "copy 001"}, expressions=True)  # a key is no expression
    assert not reads(["/srv/{{ item }}", "{{ group_names }}", "add the users to groups"], expressions=True)
    # Jinja's analysis compiles, and refuses tests and filters it does not know
    assert not reads("apache is installed", expressions=True)  # a task's name, read as an expression
    assert reads("{{ groups.web | no_such_filter }}")


def test_a_task_named_like_a_test_is_only_a_name(tmp_path):
    """``apache is installed`` parses as a Jinja test that does not exist."""
    sent = bundles(tmp_path, "- hosts: all\n  tasks:\n    - name: apache is installed\n      debug: msg=hi\n",
                   hosts=("web1",))
    assert sent["web1"]["play_hosts"] is None
