"""celeryroot-worker: the long-lived agent on each managed host.

It consumes exactly its own host's queue, runs modules in-process (solo
pool: one task at a time, which is what one host's play needs), and keeps a
heartbeat key alive. Gossip, mingle, events and remote control are off: each
would need keys shared between hosts.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="celeryroot-worker", description=__doc__.splitlines()[0])
    p.add_argument("--hostname", "-n", default=None,
                   help="this host's name in the inventory (default: the machine's host name)")
    p.add_argument("--broker", default=None, help="broker URL (else CELERYROOT_BROKER_URL or celeryroot.yaml)")
    p.add_argument("--config", default=None, help="configuration file to read instead of the default ones")
    p.add_argument("--modules-path", action="append", default=None,
                   help="directory of site-local modules (repeatable; else modules_path from config)")
    p.add_argument("--loglevel", "-l", default="INFO")
    return p.parse_args(argv)


def main(argv=None) -> int:
    opts = parse_args(argv)
    from ..app import make_app, queue_for
    from ..broker import reach
    from ..config import load_config
    from ..liveness import Heartbeat
    from ..registry import Registry
    from ..source import InputError

    try:
        config = load_config(opts.broker, opts.config)
    except InputError as exc:
        print(f"celeryroot-worker: {exc}", file=sys.stderr)
        return 1
    if config.broker_url is None:
        print("celeryroot-worker: no broker configured (--broker, CELERYROOT_BROKER_URL or broker_url "
              "in celeryroot.yaml)", file=sys.stderr)
        return 1
    host = opts.hostname or socket.gethostname()
    registry = Registry(opts.modules_path or config.modules_path)
    registry.classes  # load site modules now: a broken one should stop the start, not a task
    logging.basicConfig(level=opts.loglevel.upper(), format=f"%(asctime)s {host} %(levelname)s %(message)s")
    app = make_app(config.broker_url, host=host, registry=registry)
    with app.connection_for_read() as connection:
        # Said once here; a service waits for its broker as long as it takes.
        reach(connection, config.broker_url, None, say=lambda text: print(f"celeryroot-worker: {text}",
                                                                           file=sys.stderr, flush=True))
    heartbeat = Heartbeat(config.broker_url, host)

    from celery import signals

    @signals.worker_ready.connect(weak=False)
    def _ready(**_):
        heartbeat.start()

    @signals.worker_shutting_down.connect(weak=False)
    def _stopping(**_):
        heartbeat.stop()

    worker = app.Worker(
        hostname=f"celeryroot@{host}", pool="solo", concurrency=1, queues=[queue_for(host).name],
        without_gossip=True, without_mingle=True, without_heartbeat=True, loglevel=opts.loglevel.upper(),
        quiet=True, optimization="fair",
    )
    worker.start()
    return worker.exitcode or 0


if __name__ == "__main__":
    sys.exit(main())
