"""service: start, stop, restart, reload, enable and disable services."""

from __future__ import annotations

from dataclasses import dataclass

from ..host import services
from ..module import ArgError, Created, Module, ModuleFailure, Plan, arg
from ..host.sysops import CommandChange

STATES = ("started", "stopped", "restarted", "reloaded")


@dataclass(frozen=True, kw_only=True)
class ServiceArgs:
    """What service and systemd share (each adds its own ``name``)."""

    state: str | None = arg(None, choices=STATES,
                            doc="started/stopped: run or not (ok when already so); restarted, reloaded: "
                                "always changed (a stopped service is started).")
    enabled: bool | None = arg(None, doc="Start at boot (yes) or not (no); default: leave as it is.")
    daemon_reload: bool = arg(False, aliases=("daemon-reload",),
                              doc="systemd: reload unit files first when this unit's file changed.")


class Service(Module):
    """Manage a service: running or stopped, started at boot or not.

    The init system is found at run time: systemd (``systemctl``) when it
    is the running init, otherwise SysV init scripts (``/etc/init.d/NAME``
    through ``service``, boot links through ``update-rc.d``; running means
    ``service NAME status`` exits 0, or a process matches ``pattern``).
    ``enabled`` is applied before ``state``. ``started`` on a running
    service and ``stopped`` on a stopped one are ``ok``; ``restarted`` and
    ``reloaded`` always change something.

    A service that does not exist fails, except in check mode when an
    earlier task of the run would create it: an ``apt`` task installing a
    package of the same name, or a task writing its init script or unit
    file (``/etc/init.d/NAME``, ``/etc/systemd/system/NAME.service``…).
    It then counts as a stopped, disabled service, so ``started`` and
    ``enabled: yes`` predict ``changed``.

    Example:
        - service: name=nginx state=started enabled=yes
        - service:
            name: crond
            state: restarted
        - service: name=legacyd state=stopped pattern=/usr/sbin/legacyd
    """

    name = "service"

    @dataclass(frozen=True, kw_only=True)
    class Args(ServiceArgs):
        name: str = arg(doc="The service's name (an init script's or a systemd unit's).")
        pattern: str | None = arg(None, doc="SysV: a substring of the process's command line that shows it "
                                            "runs, for init scripts without a working status.")
        use: str = arg("auto", choices=("auto", "systemd", "sysvinit"),
                       doc="The init system to use (default: the running one).")

        def check(self) -> None:
            if self.state is None and self.enabled is None:
                raise ArgError("state", "one of 'state' or 'enabled' is required")

    def backend(self):
        return services.backend(self.args.use, self.args.pattern)

    def plan(self) -> Plan:
        name, backend = self.args.name, self.backend()
        status = backend.status(name)
        if not status.exists:
            if not self._would_exist(backend):
                raise ModuleFailure(f"could not find the requested service {name} ({backend.name}: nothing at "
                                    f"{' or '.join(backend.paths(name))})")
            status = backend.fresh()
        changes = [self._change(backend, *action) for action in self.actions(status)]
        running = status.running if self.args.state is None else self.args.state != "stopped"
        enabled = status.enabled if self.args.enabled is None else self.args.enabled
        data = {"name": name, "state": "started" if running else "stopped", "enabled": enabled}
        return Plan(changes, reason=f"{name} is {data['state']}" + (", enabled" if enabled else ", disabled"),
                    data=data)

    def _would_exist(self, backend) -> bool:
        base = self.args.name.removesuffix(".service")
        names = [Created.package(base), *map(Created.path, backend.paths(self.args.name))]
        return any(self.ctx.would_exist(name) for name in names)

    def actions(self, status: services.Status) -> list[tuple[str, str | None, str | None]]:
        """(action, before, after) in the order they run."""
        a = self.args
        out = []
        if a.daemon_reload and status.needs_reload:
            out.append(("daemon-reload", None, None))
        out += self.unit_file_actions(status)
        if a.enabled is not None and a.enabled != status.enabled:
            out.append(("enable" if a.enabled else "disable", yes_no("enabled", status.enabled),
                        yes_no("enabled", a.enabled)))
        was = "state: started\n" if status.running else "state: stopped\n"
        if a.state == "started" and not status.running:
            out.append(("start", was, "state: started\n"))
        elif a.state == "stopped" and status.running:
            out.append(("stop", was, "state: stopped\n"))
        elif a.state in ("restarted", "reloaded"):
            action = {"restarted": "restart", "reloaded": "reload"}[a.state] if status.running else "start"
            out.append((action, None if status.running else was, None if status.running else "state: started\n"))
        return out

    def unit_file_actions(self, status: services.Status) -> list[tuple[str, str | None, str | None]]:
        """Actions on the unit file itself, between daemon-reload and enable (systemd's masked)."""
        return []

    def _change(self, backend, action: str, before: str | None, after: str | None) -> CommandChange:
        target = self.args.name
        what = "reload systemd's unit files" if action == "daemon-reload" else f"{action} {target}"
        return CommandChange(what, before=before, after=after, path=target,
                             argv=backend.command(action, target))


def yes_no(key: str, value: bool) -> str:
    return f"{key}: {'yes' if value else 'no'}\n"
