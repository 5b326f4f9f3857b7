"""The test hosts' network: a bridge in the root namespace with an address
on a private /24 chosen here, one network namespace and veth pair per host,
and the broker (a redis-server) bound to the bridge address.

Hosts get no default route: they reach the bridge /24 and nothing else, so
nothing a test runs inside them can touch another address. Cutting a host
off takes its ``eth0`` down inside its namespace; restoring brings it up
(IPv4 addresses survive a link going down, the connected route returns).
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import socket
from dataclasses import dataclass
from pathlib import Path

from . import STATE, sh, wait_for

SUBNET = ipaddress.ip_network("10.251.73.0/24")
BRIDGE = "crt-br0"
#: Namespaces are ``crt-HOST``; host-side veth ends ``crt-vN`` (15 characters at most).
PREFIX = "crt-"
REDIS_PID = STATE / "redis.pid"


def bridge_address() -> str:
    return str(SUBNET.network_address + 1)


def host_address(index: int) -> str:
    return str(SUBNET.network_address + 10 + index)


@dataclass(frozen=True)
class HostNet:
    name: str
    netns: str
    address: str

    @property
    def path(self) -> str:
        return f"/run/netns/{self.netns}"


def ensure_subnet_is_ours() -> None:
    """Refuse to start if anything but our bridge already routes our /24."""
    routes = json.loads(sh("ip", "-j", "route", "show", "table", "all").stdout or "[]")
    for route in routes:
        dst = route.get("dst", "")
        if dst in ("default", "") or ":" in dst or route.get("dev") == BRIDGE:
            continue
        if ipaddress.ip_network(dst, strict=False).overlaps(SUBNET):
            raise RuntimeError(f"{SUBNET} is already in use here (route {dst} dev {route.get('dev')}); "
                               f"choose another SUBNET in {__file__}")


def create_bridge() -> None:
    ensure_subnet_is_ours()
    sh("ip", "link", "add", BRIDGE, "type", "bridge")
    sh("ip", "addr", "add", f"{bridge_address()}/{SUBNET.prefixlen}", "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")


def add_host(name: str, index: int) -> HostNet:
    net = HostNet(name, PREFIX + name, host_address(index))
    outside, inside = f"{PREFIX}v{index}", f"{PREFIX}i{index}"
    sh("ip", "netns", "add", net.netns)
    sh("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
    sh("ip", "link", "set", outside, "master", BRIDGE, "up")
    sh("ip", "link", "set", inside, "netns", net.netns)
    sh("ip", "-n", net.netns, "link", "set", inside, "name", "eth0")
    sh("ip", "-n", net.netns, "addr", "add", f"{net.address}/{SUBNET.prefixlen}", "dev", "eth0")
    sh("ip", "-n", net.netns, "link", "set", "lo", "up")
    sh("ip", "-n", net.netns, "link", "set", "eth0", "up")
    return net


def cut(net: HostNet) -> None:
    sh("ip", "-n", net.netns, "link", "set", "eth0", "down")


def restore(net: HostNet) -> None:
    sh("ip", "-n", net.netns, "link", "set", "eth0", "up")


def remove_all() -> None:
    """Every namespace and link of ours, and the bridge: also what an
    interrupted run left (a veth pair goes with its namespace)."""
    for line in sh("ip", "netns", "list").stdout.splitlines():
        netns = line.split()[0] if line.strip() else ""
        if netns.startswith(PREFIX):
            sh("ip", "netns", "delete", netns, check=False)
    links = json.loads(sh("ip", "-j", "link", "show").stdout or "[]")
    for link in links:
        if link["ifname"].startswith(PREFIX):
            sh("ip", "link", "delete", link["ifname"], check=False)


class Broker:
    """A redis-server bound to the bridge address on a free port; it runs
    daemonized with a pid file, so `python -m tests.hosts down` (or the next
    run) can stop one that outlived its run."""

    def __init__(self, port: int, workdir: Path):
        self.port = port
        self.url = f"redis://{bridge_address()}:{port}/0"
        self.workdir = workdir

    @classmethod
    def start(cls, workdir: Path) -> "Broker":
        with socket.socket() as s:
            s.bind((bridge_address(), 0))
            port = s.getsockname()[1]
        broker = cls(port, workdir)
        sh("redis-server", "--bind", bridge_address(), "--port", str(port), "--save", "", "--appendonly", "no",
           "--protected-mode", "no", "--daemonize", "yes", "--pidfile", str(REDIS_PID), "--dir", str(workdir),
           "--logfile", str(workdir / "redis.log"))
        wait_for(broker.ping, 10, f"redis-server on {broker.url}")
        return broker

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=5)

    def ping(self) -> bool:
        import redis

        try:
            return self.client().ping()
        except redis.ConnectionError:
            return False

    @staticmethod
    def stop() -> None:
        try:
            pid = int(REDIS_PID.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return
        if b"redis-server" in cmdline and bridge_address().encode() in cmdline:
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 10, "redis-server to stop")
        REDIS_PID.unlink(missing_ok=True)
