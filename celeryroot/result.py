"""The one result shape: what a module returns and what `register` stores.

Key names are Ansible's (``changed``, ``failed``, ``skipped``, ``msg``,
``rc``, ``stdout``, ``stdout_lines``, ``stderr``, ``diff``), because
playbooks already read them through ``register``.
"""

from __future__ import annotations

from collections import Counter

OK, CHANGED, FAILED, SKIPPED, UNREACHABLE = "ok", "changed", "failed", "skipped", "unreachable"

#: A result's key for what only the controller reads (fetch's file, see
#: ``Module.on_controller_result``): it is taken out before the result is
#: judged, registered or reported, and a ``no_log`` result keeps it.
FOR_CONTROLLER = "_for_controller"

#: A set_fact result's key (Ansible's) saying its facts are also the host's
#: facts, kept in the fact cache (``cacheable: true``).
CACHEABLE = "_ansible_facts_cacheable"

#: The most per-item results a loop's result holds whole. Beyond it the
#: result is summarised (`ItemTally`): a million-item loop's result is
#: registered, reported, written to --json and to the run history, and
#: holding every item there is what made such a loop cost gigabytes.
KEPT_ITEMS = 10_000

#: A result's key for the reboot its worker makes once the module's work is
#: done (modules/reboot.py): the worker takes it out and answers after the
#: host is back (worker/reboots.py).
REBOOT = "_reboot"

CENSORED = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"


def result(status: str, msg: str = "", **data) -> dict:
    """Build a result dict; every result anywhere is made here."""
    out = {
        "status": status,
        "changed": status == CHANGED,
        "failed": status in (FAILED, UNREACHABLE),
        "skipped": status == SKIPPED,
        "msg": msg,
    }
    if status == UNREACHABLE:
        out["unreachable"] = True
    for key in ("stdout", "stderr"):
        if key in data and data[key] is not None:
            data.setdefault(key + "_lines", data[key].splitlines())
    out.update(data)
    return out


def censored(res: dict) -> dict:
    """What remains of a ``no_log`` result: its outcome, nothing it carried
    (but what the controller alone reads)."""
    kept = {FOR_CONTROLLER: res[FOR_CONTROLLER]} if FOR_CONTROLLER in res else {}
    return result(res["status"], CENSORED, censored=True, **kept)


def item_diffs(res: dict) -> list[dict]:
    """A result's diffs, its loop items' included."""
    diffs = list(res.get("diff") or [])
    for item in res.get("results") or []:
        diffs += item.get("diff") or []
    return diffs


def combine_items(items: list[dict]) -> dict:
    """One task result out of a loop's per-item results, as Ansible shapes it."""
    tally = ItemTally()
    for item in items:
        tally.add(item)
    return tally.combined()


class ItemTally:
    """A loop's per-item results folded in item order as they come, holding
    at most `KEPT_ITEMS` of them: its failed items first in the choice (a
    playbook and an operator look for those), then its first items; every
    item is counted by status. A million-item loop is judged round by round
    through one of these rather than held whole."""

    def __init__(self):
        self.count = 0
        self.by_status: Counter = Counter()
        self.failed = self.skipped = self.changed = 0
        #: Kept (index, result) pairs: failed ones, and the first others.
        self._failed: list[tuple[int, dict]] = []
        self._first: list[tuple[int, dict]] = []

    def add(self, res: dict) -> None:
        index, self.count = self.count, self.count + 1
        self.by_status[res["status"]] += 1
        self.failed += bool(res["failed"])
        self.skipped += bool(res["skipped"])
        self.changed += bool(res["changed"])
        kept = len(self._failed) + len(self._first)
        if res["failed"] and len(self._failed) < KEPT_ITEMS:
            if kept >= KEPT_ITEMS:
                self._first.pop()  # the latest other item gives way
            self._failed.append((index, res))
        elif not res["failed"] and kept < KEPT_ITEMS:
            self._first.append((index, res))

    def kept(self) -> list[dict]:
        return [res for _, res in sorted(self._failed + self._first, key=lambda pair: pair[0])]

    def combined(self) -> dict:
        if not self.count:
            return result(SKIPPED, "No items in the list", results=[], skipped_reason="No items in the list")
        if self.failed:
            status, msg = FAILED, "One or more items failed"
        elif self.skipped == self.count:
            status, msg = SKIPPED, "All items skipped"
        elif self.changed:
            status, msg = CHANGED, "All items completed"
        else:
            status, msg = OK, "All items completed"
        if self.count > KEPT_ITEMS:
            return result(status, msg, **self.summary())
        return result(status, msg, results=self.kept())

    def summary(self) -> dict:
        kept = self.kept()
        return {"results": kept,
                "results_summary": {"items": self.count, "kept": len(kept), "failed": self.by_status[FAILED],
                                    "by_status": dict(self.by_status),
                                    "note": f"{self.count} items: results holds {len(kept)} of them "
                                            f"(the failed ones first, then the first ones); the counts cover all"}}
