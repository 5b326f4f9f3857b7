"""Init systems: what a service's state is, and the commands that change it.

Two backends, chosen at run time: systemd when it is the running init
(``/run/systemd/system`` exists, as ``sd_booted()`` checks), SysV init
scripts otherwise. A backend observes a service into a `Status` and names
the command for each action; the service module decides which actions a
wanted state needs, the same way for both.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

from ..module import ModuleFailure
from .proc import run

SYSTEMD_RUNNING = "/run/systemd/system"
WORKER_UNIT = "celeryroot-worker"


@dataclass(frozen=True)
class Status:
    exists: bool
    running: bool = False
    enabled: bool = False
    masked: bool = False
    #: systemd: the unit's file changed since systemd last read it.
    needs_reload: bool = False


class Systemd:
    name = "systemd"

    def status(self, unit: str) -> Status:
        done = run(["systemctl", "show", unit, "--property=LoadState,ActiveState,UnitFileState,NeedDaemonReload"])
        if done.rc != 0:
            raise ModuleFailure(f"systemctl show {unit} failed: {done.stderr}", **done.data())
        props = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
        if props.get("LoadState") == "not-found":
            return Status(exists=False)
        # is-enabled answers for units systemd generates from SysV scripts too.
        enabled = run(["systemctl", "is-enabled", unit]).rc == 0
        return Status(exists=True, running=props.get("ActiveState") in ("active", "activating", "reloading"),
                      enabled=enabled, masked=props.get("LoadState") == "masked",
                      needs_reload=props.get("NeedDaemonReload") == "yes")

    def command(self, action: str, unit: str) -> tuple[str, ...]:
        if action == "daemon-reload":
            return ("systemctl", "daemon-reload")
        if action in ("restart", "stop", "reload") and unit.removesuffix(".service") == WORKER_UNIT:
            # The worker running this task is that unit: waiting for it to
            # stop would wait for this very task (TimeoutStopSec, 10 min).
            return ("systemctl", "--no-block", action, unit)
        return ("systemctl", action, unit)

    def fresh(self) -> Status:
        """A unit that an earlier task of a check run would install: its
        file is new to systemd."""
        return Status(exists=True, needs_reload=True)

    def paths(self, unit: str) -> list[str]:
        """Where a unit file would appear, for the check-mode overlay."""
        base = unit if "." in unit else f"{unit}.service"
        return [f"{d}/{base}" for d in ("/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")]


class SysV:
    """``/etc/init.d/NAME`` run through ``service``; enabled means start
    links in the multi-user runlevels (``/etc/rc[2-5].d/S??NAME``)."""

    name = "sysvinit"

    def __init__(self, pattern: str | None = None):
        self.pattern = pattern

    def status(self, service: str) -> Status:
        if not os.path.isfile(f"/etc/init.d/{service}"):
            return Status(exists=False)
        return Status(exists=True, running=self._running(service), enabled=bool(self._links(service, "S")))

    def _running(self, service: str) -> bool:
        if self.pattern:
            return _process_matches(self.pattern)
        done = run(["service", service, "status"])
        # LSB: 0 running; 1, 2, 3 not running (with a stale pid or lock file).
        if done.rc in (0, 1, 2, 3):
            return done.rc == 0
        raise ModuleFailure(f"cannot tell whether {service} runs: 'service {service} status' exited {done.rc} "
                            "(give 'pattern' to look for its process instead)", **done.data())

    def _links(self, service: str, kind: str) -> list[str]:
        return glob.glob(f"/etc/rc[2345].d/{kind}[0-9][0-9]{glob.escape(service)}")

    def command(self, action: str, service: str) -> tuple[str, ...]:
        if action == "enable":
            # update-rc.d enable only turns existing K links into S links;
            # a script without links gets them from its LSB header.
            if not self._links(service, "K"):
                return ("update-rc.d", service, "defaults")
            return ("update-rc.d", service, "enable")
        if action == "disable":
            return ("update-rc.d", service, "disable")
        return ("service", service, action)

    def fresh(self) -> Status:
        """A service that an earlier task of a check run would install."""
        return Status(exists=True)

    def paths(self, service: str) -> list[str]:
        return [f"/etc/init.d/{service}"]


def _process_matches(pattern: str) -> bool:
    for cmdline in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(cmdline, "rb") as f:
                if pattern in f.read().replace(b"\0", b" ").decode(errors="replace"):
                    return True
        except OSError:  # the process ended while we looked
            continue
    return False


def running_init() -> str:
    return "systemd" if os.path.isdir(SYSTEMD_RUNNING) else "sysvinit"


def pid1() -> str:
    try:
        with open("/proc/1/comm") as f:
            return f.read().strip()
    except OSError:
        return "unknown"


def backend(use: str = "auto", pattern: str | None = None):
    chosen = running_init() if use == "auto" else use
    if chosen == "systemd":
        if not os.path.isdir(SYSTEMD_RUNNING):
            raise ModuleFailure(f"systemd is not the running init on this host (PID 1 is {pid1()})")
        return Systemd()
    return SysV(pattern)


# -- every service at once (service_facts) ----------------------------------

#: systemd's words that say more than the unit file's state (Ansible keeps them).
UNHEALTHY = ("not-found", "masked", "failed")


def all_services() -> dict[str, dict]:
    """Every service of the running init, as Ansible's service_facts names
    them: ``{name: {name, state, status, source}}`` (sysv has no status)."""
    return _systemd_services() if running_init() == "systemd" else _sysv_services()


def _systemd_services() -> dict[str, dict]:
    found = {}
    units = run(["systemctl", "list-units", "--no-pager", "--no-legend", "--plain", "--all", "--type=service"])
    for line in units.stdout.splitlines():
        fields = line.split()
        if len(fields) < 4 or not fields[0].endswith(".service"):
            continue
        bad = next((word for word in fields[1:4] if word in UNHEALTHY), None)
        found[fields[0]] = {"name": fields[0], "state": "running" if fields[3] == "running" else "stopped",
                            "status": bad or fields[2], "source": "systemd"}
    files = run(["systemctl", "list-unit-files", "--no-pager", "--no-legend", "--type=service"])
    unlisted = []
    for line in files.stdout.splitlines():
        fields = line.split()
        if len(fields) < 2 or not fields[0].endswith(".service"):
            continue
        name, status = fields[:2]
        if name not in found:
            unlisted.append(name)
            found[name] = {"name": name, "state": "unknown", "status": status, "source": "systemd"}
        elif found[name]["status"] not in UNHEALTHY:
            found[name]["status"] = status
    # Units that are not loaded (templates, disabled ones): their state in one call.
    for name, state in _active_states(unlisted).items():
        found[name]["state"] = state
    return found


def _active_states(units: list[str]) -> dict[str, str]:
    if not units:
        return {}
    done = run(["systemctl", "show", "--property=Id,ActiveState", "--", *units])
    states, unit = {}, None
    for line in done.stdout.splitlines():
        key, _, value = line.partition("=")
        if key == "Id":
            unit = value
        elif key == "ActiveState" and unit in units:
            states[unit] = value
    return states


def _sysv_services() -> dict[str, dict]:
    """``service --status-all``: ``[ + ]`` running, ``[ - ]`` stopped
    (it names a script without a status, ``[ ? ]``, on stderr: left out, as
    Ansible leaves it out)."""
    done = run(["service", "--status-all"])
    found = {}
    for line in done.stdout.splitlines():
        mark, _, name = line.strip().partition("]")
        state = {"[ +": "running", "[ -": "stopped"}.get(mark.strip())
        if state and name.strip():
            found[name.strip()] = {"name": name.strip(), "state": state, "source": "sysv"}
    return found
