"""set_fact: set host variables for the rest of the run."""

from dataclasses import dataclass

from ..module import Module, Plan, arg
from ..result import CACHEABLE


class SetFact(Module):
    """Set variables on the host for the rest of the run, above play vars.

    Every key but ``cacheable`` is a variable to set; values are rendered
    with the host's variables first.

    Example:
        - set_fact:
            app_url: "https://{{ inventory_hostname }}:{{ app_port }}"
    """

    name = "set_fact"
    on_controller = True
    collect_args = "facts"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        facts: dict = arg({}, doc="The variables to set (given as the task's own keys).")
        cacheable: bool = arg(False, doc="The variables are also the host's facts, kept in the fact cache "
                                         "(``celeryroot.facts.HOST``) for later runs, as Ansible's.")

    @classmethod
    def fact_names(cls, raw_args: dict, search: tuple[str, ...] = ()) -> set[str]:
        return set(raw_args.get("facts", {}))

    def plan(self) -> Plan:
        cacheable = {CACHEABLE: True} if self.args.cacheable else {}
        return Plan(reason=", ".join(sorted(self.args.facts)) or "nothing to set",
                    data={"ansible_facts": dict(self.args.facts), **cacheable})
