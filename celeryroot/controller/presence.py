"""Which hosts have a worker, and what each is doing (``celeryroot hosts``).

One round trip for any number of hosts: a pipeline of the broker's TIME,
one MGET of the hosts' heartbeat records (celeryroot/beats.py), the LLEN of
each host's queue and the set of every worker seen here. Workers whose
names the inventory does not list cost one more round trip, and only those
that are live are kept; a name whose record is gone (a month without a
beat, or never one: a host's credentials may add any name to the set) is
taken out of the set on the way.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..beats import STOPPED, WORKERS, Beat, broker_time, decode
from ..config import heartbeat_key, host_queue
from ..lang.inventory import HOST_NAME

UP = "up"
DOWN = "down"
NEVER_SEEN = "never_seen"


@dataclass(frozen=True)
class Presence:
    """A host as its heartbeat and its queue show it, at the broker's time ``now``."""

    host: str
    state: str
    beat: Beat | None
    queue: int
    now: float

    @property
    def age(self) -> float | None:
        return self.beat.age(self.now) if self.beat is not None else None

    @property
    def uptime(self) -> float | None:
        """The host's uptime now, if its worker was live when asked."""
        if self.state != UP or self.beat.uptime is None:
            return None
        return self.beat.uptime + self.age

    def document(self) -> dict:
        beat = self.beat
        live = self.state == UP
        return {
            "host": self.host, "state": self.state, "stopped": beat is not None and beat.state == STOPPED,
            "last_heartbeat": beat.at if beat else None, "age": _round(self.age),
            "version": beat.version or None if beat else None, "python": beat.python or None if beat else None,
            "pid": beat.pid if beat else None, "worker_started": beat.started if beat else None,
            "uptime": _round(self.uptime), "load": list(beat.load) if live and beat.load else None,
            "queue": self.queue, "run": beat.run if live else None,
        }


def presence(client, hosts: list[str]) -> tuple[list[Presence], list[Presence]]:
    """``hosts`` in their order, and the live workers not among them (by name)."""
    pipe = client.pipeline(transaction=False)
    pipe.time()
    pipe.smembers(WORKERS)
    if hosts:
        pipe.mget([heartbeat_key(h) for h in hosts])
    for host in hosts:
        pipe.llen(host_queue(host))
    now, known, *answers = pipe.execute()
    now = broker_time(now)
    listed = _read(hosts, answers, now)
    names = set(hosts)
    others = sorted(n for n in (m.decode(errors="replace") for m in known) if n not in names)
    bad = [n for n in others if not HOST_NAME.fullmatch(n)]
    if bad:
        client.srem(WORKERS, *bad)
    return listed, _unlisted(client, [n for n in others if n not in bad], now)


def _read(hosts: list[str], answers: list, now: float) -> list[Presence]:
    if not hosts:
        return []
    records, depths = answers[0], answers[1:]
    return [Presence(h, _state(beat, now), beat, depth, now)
            for h, raw, depth in zip(hosts, records, depths) for beat in (decode(raw),)]


def _unlisted(client, names: list[str], now: float) -> list[Presence]:
    if not names:
        return []
    pipe = client.pipeline(transaction=False)
    pipe.mget([heartbeat_key(n) for n in names])
    for name in names:
        pipe.llen(host_queue(name))
    found = _read(names, pipe.execute(), now)
    gone = [p.host for p in found if p.beat is None]
    if gone:
        client.srem(WORKERS, *gone)
    return [p for p in found if p.state == UP]


def _state(beat: Beat | None, now: float) -> str:
    if beat is None:
        return NEVER_SEEN
    return UP if beat.live(now) else DOWN


def _round(seconds: float | None) -> float | None:
    return round(seconds, 3) if seconds is not None else None
