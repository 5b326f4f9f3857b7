"""A host's Celery app: the tasks its worker runs.

The worker's tasks: ``celeryroot.run`` takes the module calls of one task
for this host (several when the task loops) and returns their results;
``celeryroot.play`` runs a whole-play bundle (see worker/bundle.py). Both run in
the worker process: no new Python per task.

Neither runs anything before its message is opened (envelope.py): signed
by a trusted controller for this very host, unexpired, not seen before.
Neither starts a module call for a run whose lease is gone (see
controller/lease.py). A refused task is said once in the log, without
its payload, counted, audited and answered as refused: a forged message,
or one that arrives late, runs nothing. Each module call of an admitted
message is then asked whether its module may run on this host
(worker/policy.py), and audited (worker/audit.py).

Celery's own built-in tasks (celery.chain, celery.chord_unlock, …) are
unregistered: a message naming one is dropped as an unknown task.
"""

from __future__ import annotations

import logging
import threading

from ..config import EMBEDDED_BROKER, client_name, lease_key
from ..envelope import Refused, Unsealed
from ..messages import PLAY_TASK, RUN_TASK, make_app, redis_client, run_of
from ..registry import Registry
from .audit import AuditLog
from .policy import ModulePolicy
from .replies import BACKEND

log = logging.getLogger("celeryroot.worker")


def worker_app(broker_url: str, host: str, registry: Registry, seal=None, policy: ModulePolicy = ModulePolicy(),
               audit: AuditLog | None = None):
    """A host's app: its own queue, and the tasks that run modules here.
    ``seal`` opens its messages and signs its replies (envelope.py); only
    the embedded mode goes without. ``policy``: the modules this host runs;
    ``audit``: where each call and refusal is recorded (None: nowhere)."""
    app = make_app(broker_url, host)
    app.conf.result_backend = BACKEND
    # The backend (worker/replies.py) signs every reply with it, Celery's own STARTED too.
    app.seal = seal or Unsealed()
    # The embedded worker lives in its controller's process: no lease to check.
    embedded = broker_url == EMBEDDED_BROKER
    # One connection, named for the host, for what the worker asks of Redis
    # itself: its heartbeat (a thread of its own), the runs' leases, its
    # replies' expiry. Beside it only kombu's: a fleet shares maxclients.
    # (Not from conf.broker_url: behind Sentinels that is kombu's URL,
    # without the primary's name.)
    app.keys = None if embedded else redis_client(broker_url, client_name(host), connections=1)
    # The worker's (worker/reboots.py), given by build_worker: the embedded mode reboots nothing.
    app.reboots = None
    gate = Gate(app.seal, None if embedded else Leases(app.keys), policy, audit)
    _register_run(app, registry, gate)
    for name in [n for n in app.tasks if n.startswith("celery.")]:
        app.tasks.unregister(name)
    return app


def _register_run(app, registry: Registry, gate: "Gate") -> None:
    # The engine (and Jinja2, the language) load with the first admitted
    # message, not on the way to ready: a fleet's workers mostly wait.
    @app.task(name=RUN_TASK, ignore_result=False, bind=True)
    def run(self, *envelope) -> dict:
        try:
            calls, overlay = gate.admit(self.request, envelope)
        except Refused as exc:
            return {"refused": f"refused: {exc}"}
        from ..engine.runner import run_calls

        answer = run_calls(registry, calls, overlay, gate.guard(self.request))
        return app.reboots.begin(self.request, answer) if app.reboots is not None else answer

    @app.task(name=PLAY_TASK, ignore_result=False, bind=True)
    def play(self, *envelope) -> dict:
        # The request is thread-local: the progress timer's thread needs it given.
        request = self.request
        try:
            (bundle,) = gate.admit(request, envelope)
        except Refused as exc:
            return {"refused": f"refused: {exc}"}
        from .bundle import run_bundle

        progress = Progress(lambda events: self.backend.store_result(
            request.id, {"events": events}, "PROGRESS", request=request))
        try:
            return run_bundle(registry, bundle, progress.emit, may_go=gate.may_go(request.id),
                              guard=gate.guard(request))
        finally:
            progress.flush()


class Gate:
    """What a message must pass before anything of it runs: its envelope,
    then its run's lease; then each of its module calls, this host's
    module policy. A refused message is logged once, counted and audited;
    a refused call is a failed result, audited as every call is."""

    def __init__(self, seal, lease: "Leases | None", policy: ModulePolicy = ModulePolicy(),
                 audit: AuditLog | None = None):
        self.seal = seal
        self.lease = lease
        self.policy = policy
        self.audit = audit
        self.refused = 0

    def admit(self, request, envelope: tuple) -> list:
        try:
            opened = self.seal.open_task(request, envelope)
        except Refused as exc:
            self._refused(request, str(exc))
            raise
        if self.lease is not None and not self.lease.held(request.id):
            self._refused(request, LEASE_GONE)
            raise Refused(LEASE_GONE)
        return opened

    def guard(self, request) -> "Guard":
        """The guard on the module calls of an admitted message (engine/runner.py)."""
        return Guard(self.policy, self.audit, request.id, request.task, self.seal.sender(request.id))

    def may_go(self, task_id: str):
        """Asked before each task of a bundle: whether its lease is still held."""
        if self.lease is None:
            return None

        def held() -> bool:
            if self.lease.held(task_id):
                return True
            log.warning("stopping the bundle of task %s: %s", task_id, LEASE_GONE)
            return False
        return held

    def _refused(self, request, why: str) -> None:
        self.refused += 1
        log.warning("refused task %s (%s, %d refused so far): %s", request.id, request.task, self.refused, why)
        if self.audit is not None:
            self.audit.refused(request.id, request.task, why)


class Guard:
    """One message's module calls: each asked of the host's policy before
    it runs, each audited once it ended, with the controller that signed
    the message."""

    def __init__(self, policy: ModulePolicy, audit: AuditLog | None, task_id: str, task: str,
                 controller: str | None):
        self.policy = policy
        self.audit = audit
        self.task_id, self.task, self.controller = task_id, task, controller

    def refusal(self, module: str) -> str | None:
        return self.policy.refusal(module)

    def ran(self, call: dict, res: dict) -> None:
        if self.audit is not None:
            self.audit.call(self.task_id, self.task, self.controller, call, res)


LEASE_GONE = "the run's lease is gone (the controller that sent the task has exited)"


class Leases:
    """Whether the run that sent a task still holds its lease."""

    def __init__(self, client):
        self.client = client

    def held(self, task_id: str) -> bool:
        return bool(self.client.exists(lease_key(run_of(task_id))))


class Progress:
    """A bundle's results, streamed as Celery PROGRESS states on the run's
    reply queue. A result waits at most ``every`` seconds for others to share
    its message: one message per task is what a fast play cannot afford, on
    the worker or on the controller that reads them."""

    def __init__(self, send, every: float = 0.05):
        self.send = send
        self.every = every
        self.events: list[dict] = []
        self.lock = threading.Lock()
        self.timer: threading.Timer | None = None

    def emit(self, event: dict) -> None:
        with self.lock:
            self.events.append(event)
            if self.timer is None:
                self.timer = threading.Timer(self.every, self.flush)
                self.timer.daemon = True
                self.timer.start()

    def flush(self) -> None:
        with self.lock:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            events, self.events = self.events, []
            if events:
                self.send(events)
