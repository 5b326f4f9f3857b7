"""pytest fixtures for test hosts: ``hosts = fleet_of("web1", "web2")`` in a
test module boots those hosts once for the module and removes them after
its last test, whatever happened. Modules get fleets of their own because a
fleet holds the machine-wide lock (one set of hosts at a time)."""

from __future__ import annotations

import pytest

from . import Unavailable, requirements
from .fleet import Fleet


def fleet_of(*names: str, **fleet):
    """``fleet``: Fleet's keywords (workers, binds, setup, lasting)."""
    @pytest.fixture(scope="module")
    def hosts():
        try:
            requirements()
        except Unavailable as exc:
            pytest.skip(f"test hosts unavailable: {exc}")
        with Fleet(list(names), **fleet) as booted:
            yield booted
    return hosts
