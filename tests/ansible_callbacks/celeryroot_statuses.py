"""An ansible-playbook callback for tests/test_differential.py: every task
result as one JSON line, ``{"kind", "task", "host", "status", "msg", "items"}``,
appended to the file named by $CELERYROOT_STATUSES, in the order the results
come. ``msg`` is the result's own (a debug task's rendered value), so
tests/test_filters.py can compare values; ``items`` holds what each item of
a loop says: ``msg`` (but for a skipped one, whose reason the two tools word
differently), its label and its index (``loop_control.index_var``), as the
report shows them. Where $CELERYROOT_RECAP names a file, the recap goes
there at the end, ``{host: {counter: n}}`` with celeryroot's counter names. ansible-core's json callback lives in a collection
(ansible.posix) that is not installed.

Loaded by ansible-core only (ANSIBLE_CALLBACK_PLUGINS), never by celeryroot.
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "celeryroot_statuses"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result, status):
        kind = "handler" if type(result.task).__name__ == "Handler" else "task"
        items = [{"msg": "(skipped)" if r.get("skipped") else r.get("msg"), "label": r.get("_ansible_item_label", r.get(r.get("ansible_loop_var"))),
                  "index": r.get(r.get("ansible_index_var"))} for r in result.result.get("results", [])]
        line = {"kind": kind, "task": result.task_name, "host": result.host.name, "status": status,
                "msg": result.result.get("msg"), "items": items}
        with open(os.environ["CELERYROOT_STATUSES"], "a") as out:
            out.write(json.dumps(line) + "\n")

    def v2_runner_on_ok(self, result):
        self._record(result, "changed" if result.result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("CELERYROOT_RECAP")
        if path:
            recap = {}
            for host in sorted(stats.processed):
                counts = stats.summarize(host)
                counts["failed"] = counts.pop("failures")
                recap[host] = counts
            with open(path, "w") as out:
                json.dump(recap, out)
