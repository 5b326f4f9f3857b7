"""An ansible-playbook callback for tests/test_differential.py: every task
result as one JSON line, ``{"kind", "task", "host", "status", "msg"}``,
appended to the file named by $CELERYROOT_STATUSES, in the order the results
come. ``msg`` is the result's own (a debug task's rendered value), so
tests/test_filters.py can compare values; ansible-core's json callback lives
in a collection (ansible.posix) that is not installed.

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
        line = {"kind": kind, "task": result.task_name, "host": result.host.name, "status": status,
                "msg": result.result.get("msg")}
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
