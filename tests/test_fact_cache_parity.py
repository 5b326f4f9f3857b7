"""The fact cache (``celeryroot.facts.HOST`` in the real test Redis) left
and read the same way by the linear strategy and by bundles, on real
workers: the same runs, one after another, give the same results and the
same cache entries both ways, and what Ansible does with a fact cache
(jsonfile, redis): gathered facts and ``set_fact: cacheable: true`` facts
persist, a later play or run sees them whatever its ``gather_facts``,
``smart`` skips gathering, ``meta: clear_facts`` empties the entry,
``delegate_facts`` fills the delegate's."""

import json
import socket

import pytest
import redis
from conftest import Play, write

from celeryroot.controller.factcache import OWN, fact_key
from celeryroot.report.text import status_word

TIMEOUT = 600  # fact_caching_timeout in the runs' celeryroot.yaml

GATHER = """
- hosts: web
  gather_facts: true
  tasks:
    - set_fact: {kept: "{{ inventory_hostname }}-kept", cacheable: true}
    - set_fact: {passing: 2}
    - name: first
      command: echo {{ kept }}
"""
READ = """
- name: without gathering
  hosts: web
  gather_facts: false
  tasks:
    - name: cached
      # default(): preflight knows no cache, and refuses a fact read bare where nothing gathers it
      command: >-
        echo {{ ansible_hostname | default('none') }} {{ kept | default('none') }}
        {{ ansible_facts.kept | default('none') }} {{ passing is defined }}
- name: smart
  hosts: web
  gather_facts: smart
  tasks:
    - name: smart
      command: echo {{ ansible_facts.hostname }}
"""
CLEAR = """
- hosts: web
  gather_facts: false
  tasks:
    - meta: clear_facts
      when: inventory_hostname == 'web1'
    - name: cleared
      command: echo {{ ansible_hostname | default('none') }} {{ kept | default('none') }}
"""


def _run(result) -> tuple:
    """A run as what it means here: exit status, recap and every (task,
    host, status, stdout), sorted (hosts of a bundle go at their own pace)."""
    assert result.doc, result
    rows = sorted((task["task"]["name"], host, status_word(res), res.get("stdout"))
                  for p in result.doc["plays"] for task in p["tasks"] for host, res in task["hosts"].items())
    return result.rc, result.stats, rows


def _entries(keys) -> dict:
    """What the cache holds for each web host: none, or its own-named facts,
    the value of the cacheable one, whether setup's facts are there, and
    whether its expiry is the configured one (the facts' values change
    from one gathering to the next)."""
    seen = {}
    for host in ("web1", "web2"):
        raw = keys.get(fact_key(host))
        if raw is None:
            seen[host] = None
            continue
        entry = json.loads(raw)
        seen[host] = {"own": entry.get(OWN), "kept": entry.get("kept"), "passing": "passing" in entry,
                      "hostname": entry.get("hostname"), "setup": "module_setup" in entry,
                      "ttl": TIMEOUT - 60 <= keys.ttl(fact_key(host)) <= TIMEOUT}
    return seen


@pytest.fixture
def both_ways(fleet, redis_server, tmp_path, fleet_inventory):
    """Runs the same books both ways, each from an empty cache for the web
    hosts: by default (bundles) and with ``bundles: false`` in celeryroot.yaml;
    return, per way, the runs' meanings and the cache after each."""
    keys = redis.Redis.from_url(redis_server.url)

    def run(*books: str) -> dict:
        seen = {}
        for way, setting in (("bundles", ""), ("linear", "bundles: false\n")):
            where = tmp_path / way
            write(where / "celeryroot.yaml", f"fact_caching_timeout: {TIMEOUT}\n{setting}")
            keys.delete(*(fact_key(h) for h in ("web1", "web2")))
            play = Play(redis_server.url, where)
            seen[way] = []
            for i, book in enumerate(books):
                result = play(write(where / f"book{i}.yaml", book), "-i", str(fleet_inventory))
                seen[way].append((_run(result), _entries(keys)))
                assert {p["play"]["execution"]["mode"] for p in result.doc["plays"]} == {way}, result
        assert seen["bundles"] == seen["linear"]
        return seen["bundles"]
    return run


def test_facts_and_cacheable_set_facts_persist_and_are_read_alike(both_ways):
    hostname = socket.gethostname().split(".")[0]
    (gathered, after_gather), (read, after_read), (again, _) = both_ways(GATHER, READ, READ)
    assert gathered[0] == 0, gathered
    for host in ("web1", "web2"):
        assert after_gather[host] == {"own": ["kept"], "kept": f"{host}-kept", "passing": False,
                                      "hostname": hostname, "setup": True, "ttl": True}
    rc, _, rows = read
    assert rc == 0, read
    outputs = {(task, host): (status, stdout) for task, host, status, stdout in rows}
    for host in ("web1", "web2"):
        # gather_facts: false sees the cached facts, the cacheable one by its own name; passing was not cached
        assert outputs[("cached", host)] == ("changed", f"{hostname} {host}-kept {host}-kept False")
        assert outputs[("smart", host)] == ("changed", hostname)
    assert ("Gathering Facts", "web1") not in outputs, "smart gathering should have used the cache"
    assert after_read == after_gather and again == read


def test_clear_facts_empties_the_cache_entry_alike(both_ways):
    hostname = socket.gethostname().split(".")[0]
    _, (cleared, after_clear) = both_ways(GATHER, CLEAR)
    outputs = {(task, host): stdout for task, host, _, stdout in cleared[2]}
    # in a later run the cacheable fact is a fact like the gathered ones: cleared with them
    assert outputs[("cleared", "web1")] == "none none"
    assert outputs[("cleared", "web2")] == f"{hostname} web2-kept"
    assert after_clear["web1"] is None and after_clear["web2"]["kept"] == "web2-kept"


def test_delegate_facts_fill_the_delegates_cache_entry(fleet, redis_server, play, tmp_path, fleet_inventory):
    """A play with delegate_to runs linearly either way (execution.py): the
    delegate's entry gets the facts, the host's gets none of them."""
    keys = redis.Redis.from_url(redis_server.url)
    keys.delete(fact_key("web1"), fact_key("db1"))
    book = write(tmp_path / "delegate.yaml", """
- hosts: web1
  gather_facts: false
  tasks:
    - setup: {gather_subset: [min]}
      delegate_to: db1
      delegate_facts: true
    - set_fact: {given_by: "{{ inventory_hostname }}", cacheable: true}
      delegate_to: db1
      delegate_facts: true
""")
    out = play(book, "-i", str(fleet_inventory))
    assert out.rc == 0 and out.doc["plays"][0]["play"]["execution"]["mode"] == "linear", out
    entry = json.loads(keys.get(fact_key("db1")))
    assert entry["given_by"] == "web1" and entry[OWN] == ["given_by"] and "module_setup" in entry
    assert keys.get(fact_key("web1")) is None
