"""set_fact: set host variables for the rest of the run."""

from dataclasses import dataclass

from ..module import Module, Plan, arg


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
        cacheable: bool = arg(False, doc="Accepted for compatibility; facts set here are not cached.")

    @classmethod
    def fact_names(cls, raw_args: dict, search: tuple[str, ...] = ()) -> set[str]:
        return set(raw_args.get("facts", {}))

    def plan(self) -> Plan:
        return Plan(reason=", ".join(sorted(self.args.facts)) or "nothing to set",
                    data={"ansible_facts": dict(self.args.facts)})
