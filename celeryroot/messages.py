"""What the controller and the workers share about the broker: the Celery
app, the task names, each host's queue, a task's message, and a plain Redis
client.

A worker's app (worker/app.py) is a Celery app from ``make_app``; the
controller only sends tasks and reads replies, which kombu does alone
(``connection``, ``publish_task``): Celery is ~90 modules of a one-host
run's start-up. Both read the settings table in config.py, the one place
the wire is described.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING

from kombu import Connection, Exchange, Queue

from .config import celery_settings, host_queue, sentinels

if TYPE_CHECKING:
    from celery import Celery

RUN_TASK = "celeryroot.run"
PLAY_TASK = "celeryroot.play"
#: What a drift schedule is signed as (worker/drift.py): no worker registers
#: a task of this name, so a schedule is never delivered as a message.
DRIFT_TASK = "celeryroot.drift"


@lru_cache(maxsize=None)
def queue_for(host: str) -> Queue:
    """A host's queue behind an exchange of its own, so the binding key in
    Redis (``_kombu.binding.celeryroot.host.NAME``) is per host as well."""
    name = host_queue(host)
    return Queue(name, Exchange(name, type="direct"), routing_key=name)


def task_id_for(run_id: str, seq: int, host: str) -> str:
    """A task's id names its run, so a worker can find the run's lease."""
    return f"{run_id}.{seq}.{host}"


def run_of(task_id: str) -> str:
    return task_id.split(".", 1)[0]


def make_app(broker_url: str, host: str | None = None) -> Celery:
    """The base of a host's worker app (``host`` None: an app that only sends)."""
    from celery import Celery

    app = Celery("celeryroot", set_as_current=False)
    app.conf.update(celery_settings(broker_url, host))
    if host is not None:
        app.conf.task_queues = [queue_for(host)]
    return app


def connection(broker_url: str) -> Connection:
    """The controller's connection to the broker: kombu's, with the transport
    options a Celery app of the same settings would give it."""
    settings = celery_settings(broker_url)  # behind Sentinels: kombu's own URL, and the primary's name
    return Connection(settings["broker_url"], transport_options=settings["broker_transport_options"])


#: Celery's retries of a message the broker did not take (its default
#: ``task_publish_retry_policy``).
PUBLISH_RETRY = {"max_retries": 3, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
#: Who sent a task, as Celery names a client that is not a worker.
ORIGIN = f"gen{os.getpid()}@{socket.gethostname()}"


def publish_task(producer, task: str, task_id: str, args, queue: str, reply_to: str, expires: float) -> None:
    """Send ``task`` onto a host's ``queue`` in Celery's message protocol 2,
    as ``send_task`` does: what the worker's Celery reads (its expiry too:
    a task taken after ``expires`` seconds is revoked, not run). The
    arguments' repr stays out of the headers (they are sealed anyway);
    nothing is declared: the task goes to the anonymous exchange, an LPUSH
    onto the queue's list, and the worker declares its own queue."""
    headers = {"lang": "py", "task": task, "id": task_id, "shadow": None, "eta": None,
               "expires": (datetime.now(timezone.utc) + timedelta(seconds=expires)).isoformat(),
               "group": None, "group_index": None, "retries": 0, "timelimit": [None, None],
               "root_id": task_id, "parent_id": None, "argsrepr": "(celeryroot)", "kwargsrepr": "{}",
               "origin": ORIGIN, "ignore_result": False, "replaced_task_nesting": 0,
               "stamped_headers": None, "stamps": {}}
    body = (list(args), {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None})
    producer.publish(body, exchange="", routing_key=queue, serializer="json", delivery_mode=2, declare=[],
                     retry=True, retry_policy=PUBLISH_RETRY, headers=headers, correlation_id=task_id,
                     reply_to=reply_to)


def redis_client(broker_url: str, name: str | None = None, connections: int | None = None, wait: float = 5.0):
    """A plain client for the keys beside the queues (heartbeats, leases,
    run locks, facts, pending handlers); ``name`` names its connections
    (``CLIENT LIST``); ``connections`` bounds how many it opens: threads
    sharing it wait for a free one instead of opening another.

    Behind Sentinels it is redis-py's ``master_for``: every new connection
    asks them where the primary is now, and a connection to a primary
    demoted since is dropped, so after a failover the next command reaches
    the new one. Until the Sentinels have promoted a replica
    (``down-after-milliseconds`` and an election) they still name the dead
    primary: a command is tried again every half second for ``wait``
    seconds, so a failover is waited for where it is met, as the controller
    waits for a lost broker (broker.py), instead of failing whatever run or
    task met it. redis-py's Sentinel pool cannot make threads wait for a
    connection, so there ``connections`` is not bounded."""
    import redis

    options = {"socket_timeout": 5, "socket_connect_timeout": 5, "health_check_interval": 30, "client_name": name}
    found = sentinels(broker_url)
    if found is None:
        if connections is None:
            return redis.Redis.from_url(broker_url, **options)
        return redis.Redis(connection_pool=redis.BlockingConnectionPool.from_url(
            broker_url, max_connections=connections, **options))
    from redis.backoff import ConstantBackoff
    from redis.retry import Retry
    from redis.sentinel import Sentinel

    watch = Sentinel(list(found.addresses), sentinel_kwargs=found.sentinel_kwargs(5), **options)
    return watch.master_for(found.master_name, db=found.db, username=found.username, password=found.password,
                            retry=Retry(ConstantBackoff(0.5), max(1, int(wait / 0.5))))
