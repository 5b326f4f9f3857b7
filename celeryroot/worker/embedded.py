"""Embedded local mode: an in-process broker and worker for ``localhost``.

With no broker configured and only localhost targeted, `celeryroot-play`
runs the same code path (messages, worker task, replies) over kombu's
in-memory transport, with the worker in a thread of its own. It writes
an audit log only where one is configured (``audit_log``,
``CELERYROOT_AUDIT_LOG``), and runs every module: its user runs the
controller already.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from celery.worker import WorkController

from ..config import EMBEDDED_BROKER
from ..keys import MemoryKeys
from ..messages import queue_for
from ..registry import Registry
from .app import worker_app
from .audit import audit_path, open_audit

LOCAL_HOSTS = {"localhost"}


class _Worker(WorkController):
    def start(self) -> None:
        # Celery's current app is thread-local; without this the task's
        # backend resolves to the default app's (disabled) one in this thread.
        self.app.set_current()
        super().start()

    def on_consumer_ready(self, consumer) -> None:
        self.ready.set()


@contextmanager
def embedded_worker(registry: Registry, options: dict, host: str = "localhost"):
    """Run a worker for ``host`` in this process; yields the keys the
    controller's stores use in place of Redis (it needs no heartbeat: it
    lives as long as this process).
    ``options``: the configuration (for ``audit_log``)."""
    path = audit_path(None, options, default=None)
    app = worker_app(EMBEDDED_BROKER, host, registry, audit=open_audit(path, host) if path else None)
    worker = _Worker(app=app, hostname=f"celeryroot@{host}", pool_cls="solo", concurrency=1,
                     queues=[queue_for(host).name], without_gossip=True, without_mingle=True,
                     without_heartbeat=True, loglevel="ERROR")
    worker.ready = threading.Event()
    thread = threading.Thread(target=worker.start, name="celeryroot-embedded-worker", daemon=True)
    thread.start()
    if not worker.ready.wait(10):
        raise RuntimeError("the embedded worker did not start within 10 s")
    # No stop on the way out: the thread is a daemon and ends with the
    # process, while a clean stop waits out the synchronous consumer loop's
    # 2 s drain timeout (celery/worker/loops.py) for nothing.
    yield MemoryKeys()
