"""Facts: the setup module on real workers, checked against this machine,
and the fact cache against the real test Redis."""

import os
import platform
import pwd
import socket
import statistics
import time
from pathlib import Path

import pytest
from conftest import write

from celeryroot.config import Config
from celeryroot.controller.factcache import FactCache, fact_cache, fact_key
from celeryroot.keys import MemoryKeys
from celeryroot.host.facts import DISTRIBUTION_NAMES, collectors_for, facts_to_vars, gather
from celeryroot.host.netfacts import SYS_NET, _link, addresses_from_ip, addresses_from_proc
from celeryroot.lang.source import InputError
from celeryroot.lang.templating import render

HOSTS = ("web1", "web2", "db1")


def os_release() -> dict:
    pairs = (line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
    return {k: v.strip('"') for k, v in pairs}


def kernel_source_address() -> str | None:
    """The address the kernel picks for outside traffic (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.200", 9))
        except OSError:
            return None
        return s.getsockname()[0]


@pytest.fixture(scope="module")
def gathered(fleet, redis_server, tmp_path_factory):
    """One real play: `setup` on the three workers, as `gather_facts` will run it."""
    from conftest import Play

    where = tmp_path_factory.mktemp("facts")
    book = write(where / "facts.yaml", "- hosts: all\n  tasks:\n    - name: facts\n      setup:\n")
    inventory = write(where / "inventory.yaml", "all:\n  hosts:\n" + "".join(f"    {h}:\n" for h in HOSTS))
    outcome = Play(redis_server.url, where)(book, inventory=inventory)
    assert outcome.rc == 0, outcome
    return outcome


def test_setup_reports_this_machine(gathered):
    release = os_release()
    uname = os.uname()
    for host in HOSTS:
        res = gathered.results("facts")[host]
        assert res["changed"] is False and res["failed"] is False
        f = res["ansible_facts"]
        assert f["hostname"] == socket.gethostname().split(".")[0]
        assert f["nodename"] == socket.gethostname()
        assert f["fqdn"] == socket.getfqdn()
        assert f["distribution_release"] == release.get("VERSION_CODENAME", "NA")
        assert f["distribution_major_version"] == release["VERSION_ID"].split(".")[0]
        assert f["distribution"] == DISTRIBUTION_NAMES.get(release["ID"], release["ID"].capitalize())
        if release["ID"] == "debian":
            assert f["distribution_version"] == Path("/etc/debian_version").read_text().strip()
        assert f["kernel"] == uname.release and f["architecture"] == uname.machine
        assert f["processor_vcpus"] == os.cpu_count()
        physical_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
        assert abs(f["memtotal_mb"] - physical_mb) <= 1
        assert 0 < f["memfree_mb"] <= f["memtotal_mb"]
        assert f["python_version"] == platform.python_version()
        assert f["python"]["version"]["major"] == 3
        assert f["user_id"] == pwd.getpwuid(os.getuid()).pw_name
        assert f["env"]["PATH"]
        assert abs(int(f["date_time"]["epoch"]) - time.time()) < 120
        assert f["date_time"]["date"] == time.strftime("%Y-%m-%d", time.localtime(int(f["date_time"]["epoch"])))
        assert f["pkg_mgr"] == ("apt" if os.path.exists("/usr/bin/apt-get") else f["pkg_mgr"])
        systemd = os.path.isdir("/run/systemd/system") and Path("/proc/1/comm").read_text().strip() == "systemd"
        assert f["service_mgr"] == ("systemd" if systemd else "sysvinit")
        # container tests may add or remove their own links meanwhile; these stay
        assert {"lo"} <= set(f["interfaces"]) and set(f["interfaces"]) & set(os.listdir("/sys/class/net"))
        assert f["selinux"]["status"] in ("enabled", "disabled")
        assert f["module_setup"] is True and f["gather_subset"] == ["all"]


def test_default_ipv4_is_the_kernels_choice(gathered):
    source = kernel_source_address()
    if source is None:
        pytest.skip("this machine has no IPv4 route to the outside, so there is no default_ipv4 to check")
    for host in HOSTS:
        f = gathered.results("facts")[host]["ansible_facts"]
        assert f["default_ipv4"]["address"] == source
        assert source in f["all_ipv4_addresses"]
        assert f["default_ipv4"]["interface"] in f["interfaces"]


def test_subset_and_filter_through_a_play(fleet, play, tmp_path):
    book = write(tmp_path / "p.yaml", """
- hosts: web1
  tasks:
    - name: some facts
      setup:
        gather_subset: ["!all", "!min", network]
        filter: [default_ipv*, ansible_interfaces]
""")
    inventory = write(tmp_path / "inventory.yaml", "all:\n  hosts:\n    web1:\n")
    out = play(book, inventory=inventory)
    assert out.rc == 0, out
    facts = out.results("some facts")["web1"]["ansible_facts"]
    assert set(facts) == {"default_ipv4", "default_ipv6", "interfaces", "gather_subset", "module_setup"}


def test_bad_subset_is_an_input_error(play, tmp_path):
    book = write(tmp_path / "p.yaml", "- hosts: web1\n  tasks:\n    - setup:\n        gather_subset: [nework]\n")
    inventory = write(tmp_path / "inventory.yaml", "all:\n  hosts:\n    web1:\n")
    out = play(book, inventory=inventory, json_out=False)
    assert out.rc == 1
    assert f"{book}:4:" in out.stderr and "bad subset 'nework'" in out.stderr


MIN = {"platform", "distribution", "python", "pkg_mgr", "service_mgr", "date_time", "env", "user", "selinux"}
EVERYTHING = MIN | {"hardware", "network", "virtual"}


@pytest.mark.parametrize("subset, expected", [
    (["all"], EVERYTHING),
    (["!all"], MIN),
    (["!all", "!min", "network"], {"network"}),
    (["all", "!network"], EVERYTHING - {"network"}),
    (["!all", "hardware"], MIN | {"hardware"}),
    (["all", "!env"], EVERYTHING - {"env"}),
    (["!env", "env"], MIN),  # named explicitly beats excluded, as in Ansible
    (["!min"], set()),
])
def test_gather_subset_rules(subset, expected):
    assert set(collectors_for(subset)) == expected


def test_gathering_is_fast():
    gather()  # the first call imports and warms the page cache
    times = []
    for _ in range(5):
        started = time.perf_counter()
        gather()
        times.append(time.perf_counter() - started)
    assert statistics.median(times) < 0.1, times


def test_address_fallback_agrees_with_iproute2():
    links = {p.name: _link(p.name) for p in SYS_NET.iterdir()}
    from_ip = addresses_from_ip(5)
    if from_ip is None:
        pytest.skip("`ip -j addr` does not work here, so there is nothing to compare the fallback with")
    from_proc = addresses_from_proc(links)
    for name in links:
        v4_ip, v6_ip = from_ip.get(name, ([], []))
        v4_proc, v6_proc = from_proc[name]
        assert v4_proc == v4_ip[:1], name  # the ioctl knows the primary address only
        assert sorted(v6_proc) == sorted(v6_ip), name


def test_facts_become_ansible_variables():
    facts = {"distribution": "Debian", "os_family": "Debian", "default_ipv4": {"address": "10.0.0.5"}}
    variables = facts_to_vars(facts)
    assert variables["ansible_facts"] is facts
    assert variables["ansible_distribution"] == "Debian"
    text = "{{ ansible_os_family }}/{{ ansible_facts.distribution }}/{{ ansible_default_ipv4.address }}"
    assert render(text, variables) == "Debian/Debian/10.0.0.5"


@pytest.fixture(params=["redis", "memory"])
def keys(request):
    """The two places a run keeps its facts, behind the one store."""
    if request.param == "memory":
        return MemoryKeys()
    return request.getfixturevalue("redis_server").client


def test_fact_cache_round_trip_ttl_and_copies(keys):
    cache = FactCache(keys, timeout=3600)
    facts = {"hostname": "web1", "default_ipv4": {"address": "10.0.0.5"}, "processor_vcpus": 2}
    cache.put("cache-web1", facts)
    got = cache.get("cache-web1")
    assert got == facts and got is not facts
    assert cache.get("cache-nobody") is None
    short = FactCache(keys, timeout=0.2)
    short.put("cache-web2", facts)
    assert short.get("cache-web2") == facts
    time.sleep(0.3)
    assert short.get("cache-web2") is None
    forever = FactCache(keys, timeout=0)
    forever.put("cache-db1", facts)
    assert forever.get("cache-db1") == facts
    forever.forget("cache-db1")
    assert forever.get("cache-db1") is None


def test_redis_fact_cache_sets_the_ttl(redis_server):
    FactCache(redis_server.client, timeout=3600).put("cache-ttl", {"a": 1})
    assert 3590 <= redis_server.client.ttl(fact_key("cache-ttl")) <= 3600
    FactCache(redis_server.client, timeout=0).put("cache-forever", {"a": 1})
    assert redis_server.client.ttl(fact_key("cache-forever")) == -1


def test_fact_cache_follows_the_configuration():
    keys = MemoryKeys()
    assert fact_cache(Config(None, options={"fact_caching_timeout": 60}), keys).timeout == 60
    assert fact_cache(Config(None), keys).timeout == 86400
    with pytest.raises(InputError, match="fact_caching_timeout"):
        fact_cache(Config(None, source="celeryroot.yaml", options={"fact_caching_timeout": "1d"}), keys)
