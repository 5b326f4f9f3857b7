"""service_facts: every service of the host and its state, as facts."""

from __future__ import annotations

from dataclasses import dataclass

from ..host.services import all_services
from ..module import Module, Plan


class ServiceFacts(Module):
    """Return every service of the host as ``ansible_facts.services``.

    Each is ``{name, state, status, source}`` keyed by its name, as
    Ansible's service_facts has them. With systemd (``source: systemd``,
    names with ``.service``), ``state`` is ``running`` or ``stopped``
    (``unknown`` or systemd's word for units that are not loaded) and
    ``status`` the unit file's state (``enabled``, ``disabled``,
    ``static``…, or ``not-found``, ``masked``, ``failed``). Without systemd,
    ``service --status-all`` answers (``source: sysv``, no ``status``;
    a script without a status is left out). Never changes anything.

    Example:
        - service_facts:
        - debug:
            msg: "cron is {{ ansible_facts.services['cron.service'].state }}"
    """

    name = "service_facts"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        pass

    def plan(self) -> Plan:
        services = all_services()
        return Plan(reason=f"{len(services)} services", data={"ansible_facts": {"services": services}})
