"""What the controller and the workers share about the broker: the Celery
app, the task names, each host's queue, and a plain Redis client.

The controller's app only sends; a worker's app (worker/app.py) adds the
tasks. Both come from ``make_app`` so the settings table in config.py is
the one place the wire is described.
"""

from __future__ import annotations

from functools import lru_cache

from celery import Celery
from kombu import Exchange, Queue

from .config import celery_settings, host_queue

RUN_TASK = "celeryroot.run"
PLAY_TASK = "celeryroot.play"


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
    """The controller's app (``host`` None), or the base of a host's worker app."""
    app = Celery("celeryroot", set_as_current=False)
    app.conf.update(celery_settings(broker_url, host))
    if host is not None:
        app.conf.task_queues = [queue_for(host)]
    return app


def redis_client(broker_url: str, name: str | None = None, connections: int | None = None):
    """A plain Redis client; ``name`` names its connections (``CLIENT
    LIST``); ``connections`` bounds how many it opens: threads sharing it
    wait for a free one instead of opening another."""
    import redis

    options = {"socket_timeout": 5, "socket_connect_timeout": 5, "health_check_interval": 30, "client_name": name}
    if connections is None:
        return redis.Redis.from_url(broker_url, **options)
    return redis.Redis(connection_pool=redis.BlockingConnectionPool.from_url(
        broker_url, max_connections=connections, **options))
