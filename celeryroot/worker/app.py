"""A host's Celery app: the tasks its worker runs.

The worker's tasks: ``celeryroot.run`` takes the module calls of one task
for this host (several when the task loops) and returns their results;
``celeryroot.play`` runs a whole-play bundle (see worker/bundle.py). Both run in
the worker process: no new Python per task.

Neither starts a module call for a run whose lease is gone (see
controller/lease.py): the task is refused, said once in the log, and
answered as refused, so a message that arrives late runs nothing.
"""

from __future__ import annotations

import logging
import threading

from ..config import EMBEDDED_BROKER, lease_key
from ..engine.runner import run_calls
from ..messages import PLAY_TASK, RUN_TASK, make_app, redis_client, run_of
from ..registry import Registry
from .bundle import run_bundle
from .replies import BACKEND

log = logging.getLogger("celeryroot.worker")


def worker_app(broker_url: str, host: str, registry: Registry):
    """A host's app: its own queue, and the tasks that run modules here."""
    app = make_app(broker_url, host)
    app.conf.result_backend = BACKEND
    # The embedded worker lives in its controller's process: no lease to check.
    lease = Leases(redis_client(broker_url)) if broker_url != EMBEDDED_BROKER else None
    _register_run(app, registry, lease)
    return app


def _register_run(app, registry: Registry, lease: "Leases | None") -> None:
    @app.task(name=RUN_TASK, ignore_result=False, bind=True)
    def run(self, calls: list[dict], overlay: list[str] | None = None) -> dict:
        if lease and not lease.held(self.request.id):
            return {"refused": REFUSED}
        return run_calls(registry, calls, overlay)

    @app.task(name=PLAY_TASK, ignore_result=False, bind=True)
    def play(self, bundle: dict) -> dict:
        # The request is thread-local: the progress timer's thread needs it given.
        request = self.request
        if lease and not lease.held(request.id):
            return {"refused": REFUSED}
        progress = Progress(lambda events: self.backend.store_result(
            request.id, {"events": events}, "PROGRESS", request=request))
        try:
            return run_bundle(registry, bundle, progress.emit,
                              may_go=(lambda: lease.held(request.id)) if lease else None)
        finally:
            progress.flush()


REFUSED = "refused: the run's lease is gone (the controller that sent the task has exited)"


class Leases:
    """Whether the run that sent a task still holds its lease; each refused
    run is logged once."""

    def __init__(self, client):
        self.client = client
        self.refused: set[str] = set()

    def held(self, task_id: str) -> bool:
        run = run_of(task_id)
        if self.client.exists(lease_key(run)):
            return True
        if run not in self.refused:
            self.refused.add(run)
            log.warning("refused task %s: the lease of run %s is gone (its controller has exited)", task_id, run)
        return False


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
