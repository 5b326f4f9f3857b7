"""Which broker serves which host: brokers: in celeryroot.yaml, the inventory's
celeryroot_broker, and the stable hash for hosts that name none."""

from __future__ import annotations

import pytest

from celeryroot.config import SOLE_BROKER, load_config
from celeryroot.controller.brokers import ByHost, hashed, routes, split
from celeryroot.keys import MemoryKeys
from celeryroot.engine.pending import PendingHandlers
from celeryroot.lang.inventory import Inventory
from celeryroot.lang.source import InputError

BROKERS = {"eu1": "redis://a:6379/0", "us1": "redis://b:6379/0", "ap1": "redis://c:6379/0"}


def test_the_hash_is_stable_across_processes_and_orders():
    # Fixed answers: sha256 of the name, not Python's per-process salted hash().
    assert [hashed(h, BROKERS) for h in ("web1", "web2", "db1")] == ["us1", "us1", "ap1"]
    assert hashed("web1", ["us1", "ap1", "eu1"]) == hashed("web1", ["ap1", "eu1", "us1"])


def test_the_hash_spreads_hosts_over_the_brokers():
    counts = {name: 0 for name in BROKERS}
    for i in range(3000):
        counts[hashed(f"host{i}", BROKERS)] += 1
    assert all(900 < n < 1100 for n in counts.values()), counts


def inventory(**hosts) -> Inventory:
    inv = Inventory()
    for name, variables in hosts.items():
        inv.add_host("all", name, variables)
    inv.finish()
    return inv


def test_the_inventory_variable_wins_over_the_hash():
    inv = inventory(web1={"celeryroot_broker": "eu1"}, web2={}, db1={})  # the hash gives web1 us1
    route = routes(BROKERS, inv, ["web1", "web2", "db1"])
    assert route == {"web1": "eu1", "web2": "us1", "db1": "ap1"}
    assert split(route, ["db1", "web2", "web1"]) == {"ap1": ["db1"], "us1": ["web2"], "eu1": ["web1"]}


def test_a_name_no_broker_has_is_an_error_naming_the_host():
    inv = inventory(web1={"celeryroot_broker": "mars"})
    with pytest.raises(InputError, match=r"host web1: celeryroot_broker: 'mars' is none of the brokers in "
                                         r"celeryroot.yaml \(ap1, eu1, us1\)"):
        routes(BROKERS, inv, ["web1"])


def test_one_broker_serves_every_host_whatever_they_name():
    inv = inventory(web1={"celeryroot_broker": "anything"})
    assert routes({SOLE_BROKER: "redis://a"}, inv, ["web1"]) == {"web1": SOLE_BROKER}


def test_a_store_by_host_keeps_each_host_on_its_own_broker():
    keys = {"eu1": MemoryKeys(), "us1": MemoryKeys()}
    pending = ByHost({"web1": "eu1", "web2": "us1"}, {n: PendingHandlers(k) for n, k in keys.items()})
    pending.remember("web1", {"restart"})
    assert pending.pending("web1") == {"restart"} and pending.pending("web2") == set()
    assert keys["eu1"].smembers("celeryroot.handlers.web1") == {b"restart"}
    assert keys["us1"].smembers("celeryroot.handlers.web1") == set()


def test_brokers_in_the_configuration(tmp_path, monkeypatch):
    monkeypatch.delenv("CELERYROOT_BROKER_URL", raising=False)
    path = tmp_path / "celeryroot.yaml"
    path.write_text("brokers:\n  eu1: redis://a:6379/0\n  us1: rediss://b:6380/0\n")
    config = load_config(None, str(path))
    assert not config.embedded and config.broker_url is None
    assert config.fleet == {"eu1": "redis://a:6379/0", "us1": "rediss://b:6380/0?ssl_cert_reqs=required"}
    assert load_config("redis://x:1/0", str(path)).fleet == {SOLE_BROKER: "redis://x:1/0"}  # --broker wins


@pytest.mark.parametrize("text, error", [
    ("broker_url: redis://a\nbrokers: {eu1: redis://b}\n", ":2:10: give broker_url or brokers, not both"),
    ("brokers: [redis://a]\n", ":1:10: brokers must map names to broker URLs"),
    ("brokers:\n  eu1: redis://a\n  us1: b:6379\n", ":3:8: broker URL 'b:6379' has no scheme"),
])
def test_bad_brokers_say_where(tmp_path, monkeypatch, text, error):
    monkeypatch.delenv("CELERYROOT_BROKER_URL", raising=False)
    path = tmp_path / "celeryroot.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as refused:
        load_config(None, str(path))
    assert error in str(refused.value)
