"""A worker's heartbeat: its record ``celeryroot.host.NAME/heartbeat``
(celeryroot/beats.py), written every ``HEARTBEAT_TTL / 3`` seconds from a
thread of its own with the broker's time, this worker's version, the host's
uptime and load, and the run it is busy with; so the controller can tell
with one round trip which hosts have a live worker (controller/liveness.py)
and what each is doing (controller/presence.py)."""

from __future__ import annotations

import logging
import os
import platform
import threading
import time

from .. import __version__
from ..beats import HEARTBEAT_KEEP, REBOOTING, STOPPED, UP, WORKERS, Beat, broker_time
from ..config import HEARTBEAT_TTL, heartbeat_key
from ..messages import run_of

log = logging.getLogger(__name__)


class Heartbeat(threading.Thread):
    """Keep this host's record fresh while the worker runs; `working` and
    `done` (from the worker's task signals) tell it which run it serves."""

    def __init__(self, client, host: str, every: float = HEARTBEAT_TTL / 3):
        """``client``: the worker's Redis client (worker/app.py), shared with its tasks."""
        super().__init__(name="celeryroot-heartbeat", daemon=True)
        self.client = client
        self.host = host
        self.key = heartbeat_key(host)
        self.every = every
        self.stopping = threading.Event()
        self.started: float | None = None
        self.task: str | None = None
        self.last: tuple[str | None, float] = (None, 0.0)
        #: When the host must be back (broker time), once the reboot module has begun a reboot.
        self.reboot_until: float | None = None

    def working(self, task_id: str) -> None:
        self.task = task_id

    def done(self, task_id: str) -> None:
        self.task = None
        self.last = (run_of(task_id), time.monotonic())

    def rebooting(self, timeout: float) -> None:
        """Say the host reboots: live for ``timeout`` s without beating, and
        kept so when the worker stops (the controller waits for the next boot)."""
        self.reboot_until = broker_time(self.client.time()) + timeout
        self.beat(REBOOTING)

    def run(self) -> None:
        failing = False
        while not self.stopping.is_set():
            try:
                self.beat(UP)
            except Exception as exc:  # the broker may be away; the record then ages
                # Said once per outage: the consumer says when it is back.
                if not failing:
                    log.warning("heartbeat: %s (retrying every %g s)", exc, self.every)
                failing = True
            else:
                failing = False
            self.stopping.wait(self.every)

    def beat(self, state: str) -> None:
        now = broker_time(self.client.time())
        if self.started is None:
            self.started = now
        until = self.reboot_until
        if until is not None:
            state = REBOOTING
        record = Beat(at=now, state=state, started=self.started, pid=os.getpid(), version=__version__,
                      python=platform.python_version(), uptime=_uptime(), load=_load(), run=self._run(),
                      until=until)
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self.key, record.encode(), ex=HEARTBEAT_KEEP)
        pipe.sadd(WORKERS, self.host)
        pipe.execute()

    def _run(self) -> str | None:
        task = self.task
        if task is not None:
            return run_of(task)
        # Between two tasks of a run, the worker still serves it.
        run, ended = self.last
        return run if time.monotonic() - ended < self.every else None

    def stop(self) -> None:
        """Stop beating, and say so: the host is down from now on, not in 6 s."""
        self.stopping.set()
        if self.started is None:
            return  # it never beat: nothing to take back
        # A beat under way would otherwise overwrite the last word with "up".
        if self.is_alive():
            self.join(self.every + 5)
        try:
            self.beat(STOPPED)
        except Exception as exc:
            log.warning("heartbeat: %s", exc)


def _uptime() -> float | None:
    try:
        with open("/proc/uptime") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _load() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:
        return None
