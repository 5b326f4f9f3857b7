"""systemd: the service module with systemd's own options."""

from __future__ import annotations

from dataclasses import dataclass

from ..host import services
from ..module import ArgError, Plan, arg
from ..host.sysops import CommandChange
from .service import Service, ServiceArgs, yes_no


class Systemd(Service):
    """Manage a systemd unit: running, enabled, masked; reload unit files.

    The service module's behaviour on systemd (same states, same check-mode
    predictions), plus ``masked``; it fails on a host where systemd is not
    the running init. ``daemon_reload`` reloads unit files when the unit's
    file changed since systemd read it; without ``name`` it always reloads
    (and is always ``changed``). Masking happens before ``enabled`` and
    ``state``, so a unit masked here cannot be started in the same task.
    ``systemd_service``, Ansible's name for it since 2.14, is this module.

    Example:
        - systemd: name=app.service state=restarted daemon_reload=yes
        - systemd:
            name: apache2
            enabled: no
            masked: yes
        - systemd: daemon_reload=yes
        - ansible.builtin.systemd_service: name=cron state=started
    """

    name = "systemd"

    @dataclass(frozen=True, kw_only=True)
    class Args(ServiceArgs):
        name: str | None = arg(None, aliases=("service", "unit"),
                               doc="The unit (NAME or NAME.service); optional with daemon_reload alone.")
        masked: bool | None = arg(None, doc="Mask the unit (yes) so nothing can start it, or unmask it (no).")

        def check(self) -> None:
            managed = [k for k in ("state", "enabled", "masked") if getattr(self, k) is not None]
            if managed and self.name is None:
                raise ArgError("name", f"'name' is required with '{managed[0]}'")
            if not managed and not self.daemon_reload:
                raise ArgError("state", "one of 'state', 'enabled', 'masked' or 'daemon_reload' is required")

    def backend(self):
        return services.backend("systemd")

    def plan(self) -> Plan:
        if self.args.name is None:
            return Plan([CommandChange("reload systemd's unit files",
                                       argv=self.backend().command("daemon-reload", ""))])
        return super().plan()

    def unit_file_actions(self, status: services.Status) -> list[tuple[str, str | None, str | None]]:
        masked = self.args.masked
        if masked is None or masked == status.masked:
            return []
        return [("mask" if masked else "unmask", yes_no("masked", status.masked), yes_no("masked", masked))]
