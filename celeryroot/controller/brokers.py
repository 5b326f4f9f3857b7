"""Which broker serves which host, when more hosts than one Redis serves.

``brokers:`` in celeryroot.yaml names the brokers; a host's is the one its
inventory variable ``celeryroot_broker`` names, else one picked by a stable
hash of its name over the sorted broker names. The hash needs no
bookkeeping, but adding a broker moves about a third of the hosts of a
fleet of three: a fleet that grows sets the variable explicitly. A plain
``broker_url`` is a fleet of one broker, which serves every host.

Everything about a host lives on its own broker: its queue, heartbeat, run
lock, cached facts and pending handlers. A broker that is down then costs
only its own hosts, never the facts or handlers of the others.
"""

from __future__ import annotations

import hashlib

from ..lang.source import InputError

#: The inventory variable that names a host's broker.
BROKER_VAR = "celeryroot_broker"


def hashed(host: str, names) -> str:
    """The broker of ``host`` among ``names`` when its inventory names none:
    the same on every controller and every run (Python's own hash() is salted
    per process)."""
    names = sorted(names)
    digest = hashlib.sha256(host.encode()).digest()
    return names[int.from_bytes(digest[:8], "big") % len(names)]


def routes(brokers: dict[str, str], inventory, hosts) -> dict[str, str]:
    """Each of ``hosts``' broker name; a ``celeryroot_broker`` that names no
    broker is an `InputError` naming the host, raised before any is contacted."""
    names = list(brokers)
    if len(names) == 1:
        return dict.fromkeys(hosts, names[0])
    out = {}
    for host in hosts:
        chosen = inventory.host_vars(host).get(BROKER_VAR)
        if chosen is None:
            out[host] = hashed(host, names)
        elif isinstance(chosen, str) and chosen in brokers:
            out[host] = chosen
        else:
            raise InputError(None, f"host {host}: {BROKER_VAR}: {chosen!r} is none of the brokers in "
                                   f"celeryroot.yaml ({', '.join(sorted(names))})")
    return out


def split(route: dict[str, str], hosts) -> dict[str, list[str]]:
    """``hosts`` by broker name, each list in the hosts' order."""
    out: dict[str, list[str]] = {}
    for host in hosts:
        out.setdefault(route[host], []).append(host)
    return out


class ByHost:
    """A per-host store (the fact cache, the pending handlers: every method
    takes the host first) kept on each host's own broker: ``stores`` by
    broker name, ``route`` host -> broker name."""

    def __init__(self, route: dict[str, str], stores: dict):
        self.route = route
        self.stores = stores

    def __getattr__(self, method: str):
        def on_own_broker(host: str, *args):
            return getattr(self.stores[self.route[host]], method)(host, *args)
        return on_own_broker
