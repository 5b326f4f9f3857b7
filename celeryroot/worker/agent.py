"""A host's Celery worker: when it is ready, what it says, how it stops.

*Ready* means consuming its queue: Celery sends ``worker_ready`` right
after the consumer's ``basic_consume``, so a message sent from then on is
taken by its next BRPOP. Only then does the heartbeat start and the one
start-up line appear. SIGTERM is Celery's warm shutdown: a running task
finishes and its result is sent; the heartbeat says "stopped" last
(``worker_shutdown`` comes after the consumer has stopped), so the
controller never takes a host that is finishing its task for a lost one.
The task signals tell the heartbeat which run the worker serves.
"""

from __future__ import annotations

import logging
import warnings

from celery import bootsteps, signals
from celery.exceptions import SecurityWarning

from .. import __version__
from ..broker import reach
from ..config import masked
from ..messages import queue_for
from ..registry import Registry
from .app import worker_app
from .audit import AuditLog
from .drift import DriftChecks
from .heartbeat import Heartbeat
from .policy import ModulePolicy
from .reboots import Reboots

log = logging.getLogger("celeryroot.worker")

#: Celery's own start-up lines, which ours replaces: "Connected to
#: redis://:**@..." (masked even when the URL has no password) and
#: "celeryroot@HOST ready.". Their warnings and errors still show.
QUIET_LOGGERS = ("celery.worker.consumer.connection", "celery.apps.worker")


class Consuming(bootsteps.StartStopStep):
    """Once the consumer consumes its queue (at start, and again after the
    broker was lost): say when it is connected again (Celery's own line is
    quiet, and the loss is logged as a warning), and close the connection
    kombu declared the queue with. kombu keeps that one in a pool of its
    own beside its BRPOP's, and with no ack emulation nothing uses it again
    until the next declare: closed, the worker holds two connections (its
    BRPOP and app.keys), where a fleet shares the broker's maxclients."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def start(self, c) -> None:
        c.task_consumer.channel.pool.disconnect()
        if c.restart_count:  # 0 on the first start, which the ready line reports
            log.info("reconnected to broker %s", masked(c.app.conf.broker_url))


def ready_line(broker_url: str, host: str, registry: Registry, policy: ModulePolicy = ModulePolicy()) -> str:
    modules = ":".join(registry.paths) or "(built-in only)"
    restriction = policy.describe()
    return (f"celeryroot-worker {__version__} ready: host {host}, broker {masked(broker_url)}, "
            f"modules {modules}{', ' + restriction if restriction else ''}, queue {queue_for(host).name}")


def build_worker(broker_url: str, host: str, registry: Registry, loglevel: str, seal,
                 policy: ModulePolicy = ModulePolicy(), audit: AuditLog | None = None):
    """The worker for ``host``, opening its messages with ``seal``, running
    the modules ``policy`` allows, recording them in ``audit``; ``start()``
    runs it until it is stopped."""
    app = worker_app(broker_url, host, registry, seal, policy, audit)
    app.steps["consumer"].add(Consuming)
    with app.connection_for_read() as connection:
        # Said once here; a service waits for its broker as long as it takes.
        reach(connection, broker_url, None, say=log.warning)
    heartbeat = Heartbeat(app.keys, host)
    app.reboots = Reboots(app, heartbeat)
    drift = DriftChecks(app.keys, host, seal, registry, policy, audit)
    line = ready_line(broker_url, host, registry, policy)

    @signals.worker_ready.connect(weak=False)
    def _ready(**_):
        heartbeat.start()
        drift.start()
        log.info(line)
        # Last: whatever befalls the answer, the worker beats and serves.
        app.reboots.answer()

    @signals.worker_shutdown.connect(weak=False)
    def _stopped(**_):
        drift.stop()
        heartbeat.stop()

    @signals.task_prerun.connect(weak=False)
    def _working(task_id=None, **_):
        drift.working(task_id)
        heartbeat.working(task_id)

    @signals.task_postrun.connect(weak=False)
    def _done(task_id=None, **_):
        heartbeat.done(task_id)
        drift.done(task_id)

    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    with warnings.catch_warnings():
        # The worker runs as root by design: it manages the host. Celery's
        # check_privileges warns about that on every start (and would refuse
        # only if pickle were accepted, which no celeryroot app does).
        warnings.simplefilter("ignore", SecurityWarning)
        return app.Worker(
            hostname=f"celeryroot@{host}", pool="solo", concurrency=1, queues=[queue_for(host).name],
            without_gossip=True, without_mingle=True, without_heartbeat=True, loglevel=loglevel,
            quiet=True, optimization="fair",
        )
