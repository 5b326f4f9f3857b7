"""Where a module runs: one call in, one result dict out.

The worker's Celery task and the controller (for modules that only read
variables) both come here. A call is a JSON-safe dict::

    {"module": "file", "args": {...}, "check": false, "diff": true,
     "no_log": false}

Results are values: a module's failure, or its bug, becomes a ``failed``
result; nothing here raises to the caller.

On a host, the worker hands in a ``guard`` (worker/app.py): asked before
each call that acts on the host whether its module may run here
(``guard.refusal(module)``: None, or why not), and told how each ended
(``guard.ran(call, result)``: the audit log), with ``no_log`` already
applied. Modules that only read variables (``on_controller``) are left
out: they run on the controller outside bundles. A call with
``become_user`` runs in a process of that user (engine/become.py).
"""

from __future__ import annotations

import signal
import threading
import traceback
from contextlib import contextmanager

from ..host.sysops import CommandChange
from ..module import PACKAGE, UNLISTED, ArgError, Context, ModuleFailure, Plan, build_args, on_host
from ..registry import Registry
from ..result import CHANGED, FAILED, OK, SKIPPED, censored, result


def run_calls(registry: Registry, calls: list[dict], overlay: list[str] | None = None, guard=None) -> dict:
    """The calls of one task for one host, in order: what a worker answers."""
    predicted = set(overlay or ())
    results = []
    for call in calls:
        res, new = run_call(registry, call, frozenset(predicted), guard=guard)
        predicted |= new
        results.append(res)
    return {"results": results, "predicted": sorted(predicted - set(overlay or ()))}


def run_call(registry: Registry, call: dict, overlay: frozenset = frozenset(),
             variables: dict | None = None, args=None, guard=None) -> tuple[dict, set[str]]:
    """Run one module call; return its result and, in check mode, what it
    would create (the union of its plan's ``Change.creates``).

    ``args``: the call's arguments as the step built them, when the call
    runs in the process that prepared it; else they are built from the wire."""
    cls = registry.get(call["module"])
    guarded = guard is not None and not (cls is not None and cls.on_controller)
    refusal = guard.refusal(registry.resolve(call["module"])) if guarded else None
    if refusal is not None:
        res, predicted = result(FAILED, refusal), set()
    elif call.get("become_user") and cls is not None and not cls.on_controller:
        from .become import run_as

        res, predicted = run_as(call["become_user"], lambda: _limited(cls, call, overlay, variables, args))
    else:
        res, predicted = _limited(cls, call, overlay, variables, args)
    if call.get("no_log"):
        res = censored(res)
    if guarded:
        guard.ran(call, res)
    return res, predicted


def _limited(cls, call: dict, overlay: frozenset, variables: dict | None, args) -> tuple[dict, set[str]]:
    """The call within its ``timeout``."""
    try:
        with time_limit(call.get("timeout")):
            return _run(cls, call, overlay, variables or {}, args)
    except TimedOut as exc:
        return result(FAILED, str(exc), timedout={"period": exc.seconds}), set()


class TimedOut(BaseException):
    """A task's ``timeout`` ran out. A BaseException, so that no module's
    ``except Exception`` takes it for its own failure and carries on."""

    def __init__(self, seconds: int):
        super().__init__(f"Timed out after {seconds} second(s).")  # Ansible's words
        self.seconds = seconds


@contextmanager
def time_limit(seconds: int | None):
    """Stop the code inside after ``seconds`` with `TimedOut`: a command it
    waits for is killed on the way out (subprocess kills its child on any
    exception). A worker runs its tasks in its main thread (the solo pool),
    where an alarm signal can interrupt them; elsewhere (the embedded local
    mode's worker thread) there is no way to stop a call, and the limit is
    not enforced."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def ring(signum, frame):
        raise TimedOut(seconds)

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _run(cls, call: dict, overlay: frozenset, variables: dict, args) -> tuple[dict, set[str]]:
    if cls is None:
        return result(FAILED, f"module '{call['module']}' is not installed on this host"), set()
    try:
        args = on_host(build_args(cls.Args, call.get("args") or {}) if args is None else args)
    except ArgError as exc:
        return result(FAILED, f"{call['module']}: {exc}"), set()
    ctx = Context(check=bool(call.get("check")), diff=bool(call.get("diff")), overlay=overlay,
                  vars=variables if cls.on_controller else {}, environment=call.get("environment") or {})
    module = cls(args, ctx)
    try:
        plan = module.plan()
        if not plan.changes:
            return result(OK, **{"msg": plan.reason + _assumed(ctx), **plan.data}), set()
        diffs = [d for d in (c.diff() for c in plan.changes) if d] if ctx.diff else []
        what = "; ".join(c.what for c in plan.changes)
        if ctx.check:
            if not module.predictable:
                return result(SKIPPED, f"skipped in check mode: would {what}{_assumed(ctx)}"), set()
            return result(CHANGED, **{"msg": f"would {what}{_assumed(ctx)}", "diff": diffs, **plan.data}), \
                set(plan.creates)
        data = {**plan.data, **_apply(module, plan)}
        return result(CHANGED, **{"msg": what, "diff": diffs, **data}), set()
    except ModuleFailure as exc:
        return result(FAILED, **{"msg": exc.msg, **exc.data}), set()
    except OSError as exc:
        return result(FAILED, f"{call['module']}: {exc}"), set()
    except Exception as exc:  # a module's bug must not take the worker down
        return result(FAILED, f"{call['module']} crashed: {exc!r}",
                      exception=traceback.format_exc(limit=8)), set()


def _assumed(ctx: Context) -> str:
    """Why a check took paths or accounts as existing that nothing said would exist."""
    paths = sorted({name for name in ctx.assumed if name.startswith("/")})
    accounts = sorted({name.replace(":", " ", 1) for name in ctx.assumed if not name.startswith("/")})
    why = []
    if paths:
        why.append(f"assuming {', '.join(paths)} will exist: an earlier task would install "
                   f"{', '.join(ctx.pending(UNLISTED))}, whose files could not be read")
    if accounts:
        why.append(f"assuming {', '.join(accounts)} will exist: an earlier task would install "
                   f"{', '.join(ctx.pending(PACKAGE))}, whose maintainer scripts may create accounts")
    return f" ({'; '.join(why)})" if why else ""


def _apply(module, plan: Plan) -> dict:
    """Perform ``plan``: its commands here, in order (the last one's output
    is the result's), then the rest in the module's ``apply``."""
    out = {}
    for change in plan.changes:
        if isinstance(change, CommandChange):
            out = change.run(module.ctx.environment)
    return {**out, **module.apply(plan)}
