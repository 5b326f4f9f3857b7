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

from .config import celery_settings, host_queue, sentinels

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


def redis_client(broker_url: str, wait: float = 5.0):
    """A plain client for the keys beside the queues (heartbeats, leases,
    run locks, facts, pending handlers). Behind Sentinels it is redis-py's
    ``master_for``: every new connection asks them where the primary is
    now, and a connection to a primary demoted since is dropped, so after
    a failover the next command reaches the new one. Until the Sentinels
    have promoted a replica (``down-after-milliseconds`` and an election)
    they still name the dead primary: a command is tried again every half
    second for ``wait`` seconds, so a failover is waited for where it is
    met, as the controller waits for a lost broker (broker.py), instead
    of failing whatever run or task met it."""
    import redis

    timeouts = {"socket_timeout": 5, "socket_connect_timeout": 5, "health_check_interval": 30}
    found = sentinels(broker_url)
    if found is None:
        return redis.Redis.from_url(broker_url, **timeouts)
    from redis.backoff import ConstantBackoff
    from redis.retry import Retry
    from redis.sentinel import Sentinel

    watch = Sentinel(list(found.addresses), sentinel_kwargs=found.sentinel_kwargs(5), **timeouts)
    return watch.master_for(found.master_name, db=found.db, username=found.username, password=found.password,
                            retry=Retry(ConstantBackoff(0.5), max(1, int(wait / 0.5))))
