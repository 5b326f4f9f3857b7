"""A loop longer than a result holds whole (result.KEPT_ITEMS): it runs to
its end on a real worker, and what is registered, reported and recorded is
a summary (the failed items, the first ones, counts of all), said so in the
result, while a short loop's ``results`` stay Ansible's whole list."""

from __future__ import annotations

import json
import sqlite3

import pytest

from celeryroot.result import FAILED, KEPT_ITEMS, OK, ItemTally, result

from conftest import write

ITEMS = 20_000
#: Items made to fail, one past the kept first ones: the summary keeps it.
FAILING = (7, 15_007)


@pytest.mark.parametrize("strategy", [[], ["--strategy", "linear"]], ids=["default", "linear"])
def test_a_loop_past_the_bound_completes_and_registers_a_summary(fleet, play, fleet_inventory, tmp_path, strategy):
    book = write(tmp_path / "long.yaml", f"""
- hosts: web1
  gather_facts: false
  tasks:
    - name: many
      debug: msg={{{{ item }}}}
      loop: "{{{{ range({ITEMS}) | list }}}}"
      failed_when: item in {list(FAILING)}
      ignore_errors: true
      register: many
    - name: short
      debug: msg={{{{ item }}}}
      loop: [a, b, c]
      register: short
    - name: read back
      assert:
        that:
          - many.results_summary['items'] == {ITEMS}
          - many.results_summary.kept == {KEPT_ITEMS}
          - many.results_summary.failed == {len(FAILING)}
          - many.results | length == {KEPT_ITEMS}
          - many.results | selectattr('failed') | map(attribute='item') | list == {list(FAILING)}
          - short.results | map(attribute='item') | list == ['a', 'b', 'c']
          - short.results_summary is not defined
""")
    db = tmp_path / "runs.db"
    out = play(book, *strategy, inventory=fleet_inventory, timeout=300, env={"CELERYROOT_HISTORY": str(db)})
    assert out.rc == 0, out
    many = out.results("many")["web1"]
    assert many["failed"] and many["msg"] == "One or more items failed"
    summary = many["results_summary"]
    assert summary["by_status"] == {"ok": ITEMS - len(FAILING), "failed": len(FAILING)}
    assert "results holds 10000" in summary["note"]
    assert len(many["results"]) == KEPT_ITEMS
    assert [r["item"] for r in many["results"][:3]] == [0, 1, 2]
    assert out.stats["web1"]["ignored"] == 1 and out.stats["web1"]["failed"] == 0
    assert len(out.results("short")["web1"]["results"]) == 3
    # The history holds the summary too, not 20,000 items.
    with sqlite3.connect(db) as conn:
        (stored,) = conn.execute("SELECT result FROM results WHERE task = 'many'").fetchone()
    stored = json.loads(stored)
    assert len(stored["results"]) == KEPT_ITEMS and stored["results_summary"]["items"] == ITEMS


def test_a_tally_folded_item_by_item_keeps_the_failed_then_the_first():
    """Items folded one at a time (as the linear run does, round by round)
    keep what a whole list would: every failed item that fits, then the
    first others, in item order; failures late in the loop push out the
    latest first items."""
    failing = set(range(KEPT_ITEMS - 5, KEPT_ITEMS + 5)) | set(range(30_000, 30_000 + KEPT_ITEMS // 2))
    tally = ItemTally()
    for i in range(40_000):
        tally.add({**result(FAILED if i in failing else OK), "item": i})
    combined = tally.combined()
    assert combined["failed"] and combined["msg"] == "One or more items failed"
    kept = [r["item"] for r in combined["results"]]
    others = KEPT_ITEMS - len(failing)
    assert kept == sorted(set(range(others)) | failing)
    assert combined["results_summary"]["by_status"] == {"ok": 40_000 - len(failing), "failed": len(failing)}
    short = ItemTally()
    for i in range(3):
        short.add({**result(OK), "item": i})
    assert [r["item"] for r in short.combined()["results"]] == [0, 1, 2]
    assert "results_summary" not in short.combined()
