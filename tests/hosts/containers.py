"""The containers: a Debian root filesystem built once with debootstrap and
cached, booted read-only with ``systemd-nspawn --volatile=overlay`` so that
every host starts clean, each in a network namespace and a cgroup of its own.

The image holds Python with venv (for contrib/install.sh) and no apt
sources: hosts have no route out, and apt tests bring their own repository.
The Python dependencies come from a wheelhouse built on this machine with
``pip wheel`` and bind-mounted read-only, so install.sh runs unchanged,
offline, as it would on a real host with ``--wheels``.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from . import CACHE, PROJECT, STATE, sh, wait_for

#: minbase lacks what a standard Debian install has and playbooks/base.yaml
#: expects (cron, less, ca-certificates): the hosts have no mirror to get them.
INCLUDE = ("systemd", "systemd-sysv", "dbus", "python3", "python3-venv", "iproute2", "procps", "ca-certificates",
           "cron", "less")
#: Bump when image_tweaks() changes: it is part of the cache key.
RECIPE = 1
#: Cgroup folder (in the name=systemd hierarchy) holding one folder per container.
CGROUP = "celeryroot-test"
#: Where the project and the wheelhouse appear inside a container.
SRC_IN_HOST = "/srv/celeryroot"
WHEELS_IN_HOST = "/srv/wheels"
#: Where a host's identity is copied for install.sh --pki.
PKI_IN_HOST = "/root/celeryroot-pki"


def host_release() -> tuple[str, str]:
    """The suite this machine runs and the mirror apt already uses for it."""
    release = dict(line.rstrip().split("=", 1) for line in open("/etc/os-release") if "=" in line)
    suite = release["VERSION_CODENAME"]
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        for stanza in Path(path).read_text().split("\n\n"):
            fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
            if suite in fields.get("Suites", "").split() and "deb" in fields.get("Types", "").split():
                return suite, fields["URIs"].split()[0]
    for path in ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list"))]:
        if os.path.exists(path):
            for line in open(path):
                m = re.match(r"\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)", line)
                if m and m.group(2) == suite:
                    return suite, m.group(1)
    raise RuntimeError(f"no apt source for {suite} in /etc/apt: cannot choose a debootstrap mirror")


def _key(inputs: dict) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def rootfs_path() -> Path:
    suite, mirror = host_release()
    inputs = {"suite": suite, "mirror": mirror, "include": INCLUDE, "variant": "minbase",
              "arch": platform.machine(), "recipe": RECIPE}
    return CACHE / f"rootfs-{suite}-{_key(inputs)}"


def cached_rootfs() -> Path | None:
    try:
        path = rootfs_path()
    except (OSError, RuntimeError):
        return None
    return path if (path / ".complete").exists() else None


def unmount_below(path: Path) -> None:
    """An interrupted debootstrap leaves /proc and /sys mounted in its tree."""
    mounts = [line.split()[4] for line in open("/proc/self/mountinfo")]
    for mount in sorted((m for m in mounts if m == str(path) or m.startswith(f"{path}/")), reverse=True):
        sh("umount", "-l", mount, check=False)


def build_rootfs(log=print) -> Path:
    """The cached image, built first if missing (about 90 s, once)."""
    path = rootfs_path()
    if (path / ".complete").exists():
        return path
    suite, mirror = host_release()
    CACHE.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".building")
    unmount_below(scratch)
    shutil.rmtree(scratch, ignore_errors=True)
    log(f"building {path} with debootstrap from {mirror} (once, about 90 s)")
    started = time.monotonic()
    try:
        sh("debootstrap", "--variant=minbase", f"--include={','.join(INCLUDE)}", suite, str(scratch), mirror,
           timeout=900)
    finally:
        unmount_below(scratch)
    image_tweaks(scratch)
    (scratch / ".complete").write_text(f"built in {time.monotonic() - started:.0f}s\n")
    return publish(scratch, path, "rootfs-*")


def image_tweaks(root: Path) -> None:
    # Each boot gets its own machine id and its host name from a bind mount.
    (root / "etc/machine-id").write_text("")
    (root / "etc/hostname").write_text("localhost\n")
    # No route out from the hosts: the mirror would only make apt wait.
    (root / "etc/apt/sources.list").write_text("")
    # Timers that would take apt's lock in the middle of an apt test.
    for unit in ("apt-daily.timer", "apt-daily-upgrade.timer"):
        link = root / "etc/systemd/system" / unit
        link.unlink(missing_ok=True)
        link.symlink_to("/dev/null")


def image_python(rootfs: Path) -> str:
    """The image's Python version (3.11.2), from its dpkg status."""
    for stanza in (rootfs / "var/lib/dpkg/status").read_text().split("\n\n"):
        m = re.search(r"^Package: python3\.\d+\n(?:.+\n)*?Version: ([\d.]+)", stanza + "\n", re.M)
        if m:
            return m.group(1)
    raise RuntimeError(f"no python3.X package in {rootfs}")


def wheelhouse(rootfs: Path, log=print) -> Path:
    """celeryroot's dependencies (and its build backend) as wheels for the
    image's Python, cached under a key of the requirements and that Python."""
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    reqs = sorted(project["project"]["dependencies"] + project["build-system"]["requires"] + ["wheel"])
    return _wheels(rootfs, "wheels", reqs, log)


def ansible_wheelhouse(rootfs: Path, log=print) -> Path:
    """ansible-core (tests/requirements-ansible.txt) and what it needs, as
    wheels for the image's Python: the differential tests install it into a
    host as a user would, offline."""
    lines = (PROJECT / "tests/requirements-ansible.txt").read_text().splitlines()
    return _wheels(rootfs, "ansible-wheels", sorted(line for line in lines if line and not line.startswith("#")), log)


def _wheels(rootfs: Path, family: str, reqs: list[str], log) -> Path:
    python = image_python(rootfs)
    path, scratch = cache_entry(f"{family}-py{python}-{platform.machine()}-{_key({'requirements': reqs})}",
                                "building a wheelhouse with pip wheel", log)
    if scratch is None:
        return path
    while reqs:
        sh(sys.executable, "-m", "pip", "wheel", "-q", "-w", str(scratch), *reqs, timeout=600)
        reqs = unmet(scratch, python)
    (scratch / ".complete").write_text(f"for Python {python}\n")
    return publish(scratch, path, f"{family}-*")


def cache_entry(name: str, what: str, log) -> tuple[Path, Path | None]:
    """The cached folder ``name``, and unless it is complete an empty
    scratch folder beside it to build it in (``publish`` moves it in)."""
    path = CACHE / name
    if (path / ".complete").exists():
        return path, None
    log(f"{what}: {path} (once)")
    scratch = path.with_name(path.name + ".building")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    return path, scratch


def publish(scratch: Path, path: Path, family: str) -> Path:
    """Move a finished build into the cache; drop the family's other keys."""
    for old in CACHE.glob(family):
        if old != scratch:
            unmount_below(old)
            shutil.rmtree(old, ignore_errors=True)
    scratch.rename(path)
    return path


def unmet(folder: Path, python: str) -> list[str]:
    """Requirements of the wheels in ``folder`` that the image's Python needs
    and no wheel there provides: pip evaluates markers for the Python running
    it, so redis's ``async-timeout; python_full_version < "3.11.3"`` is left
    out on a newer host. (Markers under an extra are pip's business: the host
    resolved the extras asked for.)"""
    import zipfile
    from email.parser import Parser

    from packaging.markers import default_environment
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name, parse_wheel_filename

    env = default_environment() | {"python_full_version": python, "python_version": python.rsplit(".", 1)[0],
                                   "extra": ""}
    wheels = list(folder.glob("*.whl"))
    have = {canonicalize_name(parse_wheel_filename(w.name)[0]) for w in wheels}
    wanted = set()
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as whl:
            name = next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
            meta = Parser().parsestr(whl.read(name).decode())
        for line in meta.get_all("Requires-Dist") or []:
            req = Requirement(line)
            if canonicalize_name(req.name) not in have and (req.marker is None or req.marker.evaluate(env)):
                wanted.add(f"{req.name}{req.specifier}")
    return sorted(wanted)


def cgroup_roots() -> list[Path]:
    """Our cgroup folder in each hierarchy nspawn places containers in.

    nspawn --keep-unit puts the container below the cgroup it is started in
    (found through the unified hierarchy when there is one, created in the
    named systemd one too on hybrid machines); a folder per container keeps
    two containers' units apart."""
    base = Path("/sys/fs/cgroup")
    if (base / "cgroup.procs").exists():  # cgroup v2 only
        return [base / CGROUP]
    return [base / h / CGROUP for h in ("unified", "systemd") if (base / h / "cgroup.procs").exists()]


#: systemd-nspawn's exit status when the container's systemd reboots.
REBOOTED = 133


class Container:
    """One booted host. ``run`` executes a command inside it (all its
    namespaces, through nsenter), as a root shell on that host would.

    A ``lasting`` host keeps its changes across a reboot: its root is an
    overlay of the image this harness mounts under the host's folder,
    where nspawn's ``--volatile=overlay`` would start each boot clean."""

    def __init__(self, name: str, rootfs: Path, netns_path: str, binds: dict[str, str], lasting: bool = False):
        self.name, self.rootfs, self.netns_path, self.binds = name, rootfs, netns_path, binds
        self.lasting = lasting
        self.dir = STATE / name
        self.cgroups = [root / name for root in cgroup_roots()]
        self.proc: subprocess.Popen | None = None
        self.leader: int | None = None

    def boot(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "hostname").write_text(self.name + "\n")
        for folder in self.cgroups:
            folder.mkdir(parents=True, exist_ok=True)
        root = ["-D", str(self._overlay())] if self.lasting else ["--volatile=overlay", "-D", str(self.rootfs)]
        argv = ["systemd-nspawn", "--register=no", "--keep-unit", "--console=passive", *root,
                f"--machine={self.name}", f"--network-namespace-path={self.netns_path}",
                f"--bind-ro={self.dir / 'hostname'}:/etc/hostname"]
        argv += [f"--bind-ro={outside}:{inside}" for outside, inside in self.binds.items()]
        procs = [folder / "cgroup.procs" for folder in self.cgroups]
        with open(self.dir / "console.log", "ab") as log:
            self.proc = subprocess.Popen(
                argv + ["--boot"], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in pytest must not reach the container
                preexec_fn=lambda: [path.write_text("0") for path in procs])
        (self.dir / "nspawn.pid").write_text(str(self.proc.pid))

    def _overlay(self) -> Path:
        """The lasting host's root, mounted at its first boot."""
        top = self.dir / "root"
        if not os.path.ismount(top):
            for part in ("upper", "work", "root"):
                (self.dir / part).mkdir(exist_ok=True)
            sh("mount", "-t", "overlay", "overlay", "-o",
               f"lowerdir={self.rootfs},upperdir={self.dir / 'upper'},workdir={self.dir / 'work'}", str(top))
        return top

    def rebooted(self, timeout: float = 120) -> str:
        """Wait for the host to reboot, and boot it again, as
        systemd-nspawn@.service does (RestartForceExitStatus=133): nspawn
        itself exits when its container reboots. Only a lasting host comes
        back as it was."""
        status = self.proc.wait(timeout)
        if status != REBOOTED:
            raise RuntimeError(f"{self.name}: systemd-nspawn exited {status}, not {REBOOTED} (a reboot): "
                               f"{self.console()[-2000:]}")
        self.boot()
        return self.wait_booted()

    def find_leader(self, timeout: float = 30) -> int:
        """The container's PID 1 as seen from here: nspawn's child running
        systemd. Right after the fork that child is briefly nspawn itself, so
        it counts only once it runs systemd."""
        def leader() -> int | None:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: systemd-nspawn exited ({self.proc.returncode}): "
                                   f"{self.console()[-2000:]}")
            for task in Path(f"/proc/{self.proc.pid}/task").glob("*/children"):
                for pid in task.read_text().split():
                    try:
                        if Path(f"/proc/{pid}/comm").read_text().strip() == "systemd":
                            return int(pid)
                    except OSError:
                        continue
            return None
        self.leader = wait_for(leader, timeout, f"{self.name}'s systemd")
        return self.leader

    def wait_booted(self, timeout: float = 60) -> str:
        """systemd's own verdict once start-up is over: running or degraded
        (``offline`` until systemd listens, so asked again until then)."""
        self.find_leader()
        deadline = time.monotonic() + timeout
        state = "offline"
        while state in ("offline", "") and time.monotonic() < deadline:
            time.sleep(0.1)
            state = self.run("systemctl", "is-system-running", "--wait", check=False,
                             timeout=max(1.0, deadline - time.monotonic())).stdout.strip()
        if state not in ("running", "degraded"):
            raise RuntimeError(f"{self.name} did not boot: {state!r}; {self.console()[-2000:]}")
        return state

    def run(self, *argv: str, check: bool = True, timeout: float = 120, input: str | None = None,
            env: dict | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run(self.inside(argv), capture_output=True, text=True, timeout=timeout, input=input,
                              env=self.env(env))
        if check and proc.returncode != 0:
            raise RuntimeError(f"{self.name}: {' '.join(argv)}: exit {proc.returncode}:\n{proc.stdout}{proc.stderr}")
        return proc

    def inside(self, argv) -> list[str]:
        return ["nsenter", "-t", str(self.leader), "-m", "-u", "-i", "-n", "-p", "-C", "-r", "-w", "--", *argv]

    @staticmethod
    def env(extra: dict | None = None) -> dict:
        return {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
                "HOME": "/root", "TERM": "dumb", **(extra or {})}

    def put(self, folder: Path, dest: str) -> None:
        """Copy a folder of this machine into the container, as ``dest``."""
        pack = subprocess.Popen(["tar", "-C", str(folder), "-cf", "-", "."], stdout=subprocess.PIPE)
        unpack = subprocess.run(self.inside(["sh", "-c", 'mkdir -p "$0" && tar -C "$0" -xf -', dest]),
                                stdin=pack.stdout, capture_output=True, env=self.env(), timeout=60)
        if pack.wait() != 0 or unpack.returncode != 0:
            raise RuntimeError(f"{self.name}: copying {folder} to {dest} failed: {unpack.stderr.decode()}")

    def console(self) -> str:
        try:
            return (self.dir / "console.log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 20) -> None:
        """One SIGTERM (a second one kills the container at once), then
        SIGKILL if it has not shut down in time."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for folder in self.cgroups:
            remove_cgroup(folder)
        unmount_below(self.dir)  # a lasting host's root: the image below it must stay untouched
        shutil.rmtree(self.dir, ignore_errors=True)


def remove_cgroup(folder: Path) -> None:
    """Kill what is left in a cgroup folder, then remove it bottom-up."""
    if not folder.exists():
        return
    for procs in folder.rglob("cgroup.procs"):
        for pid in procs.read_text().split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        wait_for(lambda s=sub: _rmdir(s), 10, f"{sub} to empty")
    wait_for(lambda: _rmdir(folder), 10, f"{folder} to empty")


def _rmdir(folder: Path) -> bool:
    try:
        folder.rmdir()
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


def remove_leftovers() -> None:
    """What an interrupted run left: containers (their cgroup folders hold
    every process they had) and their state."""
    for folder in cgroup_roots():
        remove_cgroup(folder)
    for folder in STATE.glob("*/"):
        shutil.rmtree(folder, ignore_errors=True)
