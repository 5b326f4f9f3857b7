"""A worker's heartbeat record: what its worker says about itself on every
beat, stamped with the broker's own clock.

One key per host, ``celeryroot.host.NAME/heartbeat`` (config.heartbeat_key),
in the host's own prefix. It outlives its worker by `HEARTBEAT_KEEP`, so a
host whose heartbeat lapsed reads as *down* for a month, and one that never
had a worker as *never seen*; a worker that stops says so on its way out.
Whether a host is live is the record's age: both sides read Redis' TIME,
so a host whose clock is off is taken neither for dead nor for alive.

Each worker also adds its name to `WORKERS`, a set it may only add to, so
the controller finds live workers its inventory does not list without
scanning the key space.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from .config import HEARTBEAT_TTL

#: Seconds a heartbeat record outlives its last beat: how long a dead host
#: is remembered as down rather than never seen.
HEARTBEAT_KEEP = 30 * 86400

#: The set of host names that ever ran a worker here (SADD only, for hosts).
WORKERS = "celeryroot.workers"

UP = "up"
STOPPED = "stopped"
#: The worker is rebooting its host (the reboot module): live until the
#: record's ``until``, when the next boot's worker beats again.
REBOOTING = "rebooting"
#: A record that is not one of ours (a host's own credentials may write anything there).
UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Beat:
    """One beat of a host's worker. Times are the broker's (Redis TIME)."""

    at: float
    state: str = UP
    started: float | None = None
    pid: int | None = None
    version: str = ""
    python: str = ""
    #: The host's uptime and load average when it beat.
    uptime: float | None = None
    load: tuple[float, float, float] | None = None
    #: The run whose task is under way there (or ended within the last beat).
    run: str | None = None
    #: A `REBOOTING` record's deadline (broker time): the task's reboot_timeout.
    until: float | None = None

    def age(self, now: float) -> float:
        return now - self.at

    def live(self, now: float) -> bool:
        # A record from the future (a broker failed over to a machine whose
        # clock is ahead) counts only within the TTL, lest it live forever.
        if self.state == REBOOTING:
            return self.until is not None and self.at - HEARTBEAT_TTL < now < self.until
        return self.state == UP and -HEARTBEAT_TTL < self.age(now) < HEARTBEAT_TTL

    def encode(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


def decode(raw: bytes | None) -> Beat | None:
    """The record in ``raw``; None if there is none; an `UNREADABLE` one
    (never live) for anything else found there."""
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        load = data.get("load")
        return Beat(at=float(data["at"]), state=_text(data.get("state")), started=_number(data.get("started")),
                    pid=_number(data.get("pid"), int), version=_text(data.get("version")),
                    python=_text(data.get("python")), uptime=_number(data.get("uptime")),
                    load=tuple(float(x) for x in load[:3]) if isinstance(load, list) and len(load) >= 3 else None,
                    run=_text(data.get("run")) or None, until=_number(data.get("until")))
    except (ValueError, TypeError, KeyError, AttributeError):
        return Beat(at=0.0, state=UNREADABLE)


def broker_time(reply) -> float:
    """Redis' TIME reply (seconds, microseconds) as seconds."""
    seconds, micros = reply
    return seconds + micros / 1e6


def _text(value, limit: int = 64) -> str:
    # Shown on the operator's terminal: no escape sequences from a host.
    if value is None:
        return ""
    text = str(value)[:limit]
    return text if text.isprintable() else "".join(ch for ch in text if ch.isprintable())


def _number(value, kind=float):
    return kind(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
