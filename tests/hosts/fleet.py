"""A fleet of test hosts: the bridge and its broker, then per host a network
namespace, a booted container and celeryroot's worker installed there by
``contrib/install.sh`` and running as its systemd unit."""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from support import alive, shared_pki

from . import PROJECT, STATE, Lock, requirements, wait_for
from . import containers, network
from .containers import PKI_IN_HOST, SRC_IN_HOST, WHEELS_IN_HOST, Container
from .network import Broker, HostNet

UNIT = "celeryroot-worker.service"


class Host:
    def __init__(self, name: str, net: HostNet, container: Container):
        self.name, self.net, self.container = name, net, container

    @property
    def address(self) -> str:
        return self.net.address

    def run(self, *argv: str, **kw):
        return self.container.run(*argv, **kw)

    def install(self, *args: str) -> str:
        """Run the project's own installer on this host; its output. The
        first install takes the host's identity (``--pki``) from the
        session's PKI."""
        return self.run(f"{SRC_IN_HOST}/contrib/install.sh", "--source", SRC_IN_HOST, "--wheels", WHEELS_IN_HOST,
                        *args, timeout=300).stdout

    def put(self, folder: Path, dest: str) -> None:
        self.container.put(folder, dest)

    def exists(self, path: str) -> bool:
        return self.run("test", "-e", path, check=False).returncode == 0

    def journal(self) -> str:
        """The worker's log, as the journal has it."""
        return self.run("journalctl", "-u", UNIT, "-o", "cat", "--no-pager").stdout

    def worker_pid(self) -> int:
        """The worker's pid inside the host, as systemd knows it (0: none)."""
        return int(self.run("systemctl", "show", "-P", "MainPID", UNIT).stdout.strip())

    def cut(self) -> None:
        network.cut(self.net)

    def restore(self) -> None:
        network.restore(self.net)


class Fleet:
    """Started with ``up`` and always ended with ``down``: a context manager
    holds the machine-wide lock for as long as the hosts exist."""

    def __init__(self, names: list[str], log=print, workers=None, binds=None, setup=None, lasting: bool = False):
        """``workers``: the names that get celeryroot's worker (all by
        default); ``binds(rootfs, log)``: more folders of this machine to
        bind read-only into every host, ``{outside: inside}``, built under
        the lock (caches); ``setup(host)``: run on each booted host, before
        its worker is installed; ``lasting``: hosts that keep their changes
        across a reboot (containers.Container)."""
        self.names, self.log, self.lasting = names, log, lasting
        self.workers = set(names if workers is None else workers)
        self.extra_binds, self.setup = binds, setup
        self.hosts: dict[str, Host] = {}
        self.broker: Broker | None = None
        self.lock = Lock()

    def __enter__(self) -> "Fleet":
        self.lock.__enter__()
        try:
            self.up()
        except BaseException:
            self.down()
            self.lock.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.down()
        finally:
            self.lock.__exit__(None, None, None)

    def up(self) -> None:
        requirements()
        started = time.monotonic()
        clear()
        rootfs = containers.build_rootfs(self.log)
        wheels = containers.wheelhouse(rootfs, self.log)
        network.create_bridge()
        (STATE / "broker").mkdir()
        self.broker = Broker.start(STATE / "broker")
        binds = {str(snapshot(STATE / "src")): SRC_IN_HOST, str(wheels): WHEELS_IN_HOST}
        binds.update(self.extra_binds(rootfs, self.log) if self.extra_binds else {})
        for index, name in enumerate(self.names):
            net = network.add_host(name, index)
            self.hosts[name] = Host(name, net, Container(name, rootfs, net.path, binds, self.lasting))
        for host in self.hosts.values():
            host.container.boot()
        with ThreadPoolExecutor(len(self.hosts)) as pool:
            list(pool.map(self._provision, self.hosts.values()))
        self.log(f"{len(self.hosts)} hosts up in {time.monotonic() - started:.1f}s, broker {self.broker.url}")

    def _provision(self, host: Host) -> None:
        started = time.monotonic()
        host.container.wait_booted()
        booted = time.monotonic()
        if self.setup:
            self.setup(host)
        set_up = time.monotonic()
        if host.name not in self.workers:
            self.log(f"{host.name} ({host.address}): booted in {booted - started:.1f}s, set up in "
                     f"{set_up - booted:.1f}s, no worker")
            return
        host.put(shared_pki().host(host.name), PKI_IN_HOST)
        host.install("--broker", self.broker.url, "--hostname", host.name, "--pki", PKI_IN_HOST)
        installed = time.monotonic()
        self.wait_serving(host.name)
        self.log(f"{host.name} ({host.address}): booted in {booted - started:.1f}s, set up in "
                 f"{set_up - booted:.1f}s, install.sh took {installed - set_up:.1f}s, "
                 f"worker up {time.monotonic() - installed:.1f}s later")

    def alive(self, name: str) -> bool:
        return name in alive(self.broker.client(), [name])

    def wait_serving(self, name: str, timeout: float = 60) -> None:
        wait_for(lambda: self.alive(name), timeout, f"{name}'s worker heartbeat")

    def inventory(self, path: Path, groups: dict[str, list[str]] | None = None) -> Path:
        """An inventory naming these hosts, and ``groups`` of them."""
        lines = ["all:", "  hosts:"] + [f"    {name}:" for name in self.hosts]
        if groups:
            lines.append("  children:")
            for group, members in groups.items():
                lines += [f"    {group}:", "      hosts:"] + [f"        {m}:" for m in members]
        path.write_text("\n".join(lines) + "\n")
        return path

    def down(self) -> None:
        for host in self.hosts.values():
            host.container.stop()
        self.hosts.clear()
        clear()


def snapshot(dest: Path) -> Path:
    """The project as it is now, for the hosts to install from: others may
    edit the working tree during a run, and a host must see one version."""
    dest.mkdir(parents=True)
    tar = subprocess.Popen(["tar", "-C", str(PROJECT), "--exclude-vcs", "--exclude-vcs-ignores",
                            "--exclude-tag-all=pyvenv.cfg", "--exclude=__pycache__", "-cf", "-", "."],
                           stdout=subprocess.PIPE)
    subprocess.run(["tar", "-C", str(dest), "-xf", "-"], stdin=tar.stdout, check=True)
    if tar.wait() != 0:
        raise RuntimeError(f"could not copy {PROJECT}")
    return dest


def clear() -> None:
    """Remove every container, namespace, the bridge and the broker of ours,
    whether this run or an interrupted one made them."""
    containers.remove_leftovers()
    Broker.stop()
    network.remove_all()

