"""include_role: a role's tasks included when the task runs (for each item of a loop)."""

from dataclasses import dataclass

from ..module import Module, ModuleFailure, Plan, arg


class IncludeRole(Module):
    """Include a role's tasks for the host when the task runs, once for
    each item of its ``loop``, with the task's ``vars``.

    As include_tasks: without a loop and named by play and extra variables
    alone, the role is expanded when the playbook loads (as
    ``import_role``); else it is included when the task runs, checked then
    when its name needs the run, and ``apply`` gives its tasks keywords.
    The play loop carries it out.

    Example:
        - include_role:
            name: site
            tasks_from: vhost
          loop: "{{ vhosts }}"
    """

    name = "include_role"
    on_controller = True

    @dataclass(frozen=True, kw_only=True)
    class Args:
        name: str = arg(doc="The role.")
        tasks_from: str = arg("main", doc="The file of the role's tasks/ to include.")
        apply: dict = arg({}, doc="Keywords given to every included task.")
        public: bool = arg(False, doc="Accepted for compatibility: the role's defaults and vars are the play's.")
        allow_duplicates: bool = arg(True, doc="Accepted for compatibility.")

    def plan(self) -> Plan:
        raise ModuleFailure("include_role is carried out by the play loop")
