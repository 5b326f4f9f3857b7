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
#: result is summarised (`summarised`): a million-item loop's result is
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
    if not items:
        return result(SKIPPED, "No items in the list", results=[], skipped_reason="No items in the list")
    if any(r["failed"] for r in items):
        status = FAILED
        msg = "One or more items failed"
    elif all(r["skipped"] for r in items):
        status, msg = SKIPPED, "All items skipped"
    elif any(r["changed"] for r in items):
        status, msg = CHANGED, "All items completed"
    else:
        status, msg = OK, "All items completed"
    if len(items) > KEPT_ITEMS:
        return result(status, msg, **summarised(items))
    return result(status, msg, results=items)


def summarised(items: list[dict]) -> dict:
    """A long loop's ``results`` cut to `KEPT_ITEMS`, in item order: its
    failed items first in the choice (a playbook and an operator look
    for those), then its first items; with ``results_summary`` saying so
    and counting every item by status."""
    failed = [i for i, r in enumerate(items) if r["failed"]][:KEPT_ITEMS]
    chosen = set(failed)
    for i in range(len(items)):
        if len(chosen) >= KEPT_ITEMS:
            break
        chosen.add(i)
    by_status = Counter(r["status"] for r in items)
    return {"results": [items[i] for i in sorted(chosen)],
            "results_summary": {"items": len(items), "kept": len(chosen), "failed": by_status[FAILED],
                                "by_status": dict(by_status),
                                "note": f"{len(items)} items: results holds {len(chosen)} of them "
                                        f"(the failed ones first, then the first ones); the counts cover all"}}
