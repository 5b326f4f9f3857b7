"""include_tasks: a task file included when the task runs (for each item of a loop)."""

from dataclasses import dataclass

from ..module import Module, ModuleFailure, Plan, arg


class IncludeTasks(Module):
    """Include a task file for the host when the task runs, once for each
    item of its ``loop``, with the task's ``vars``.

    A task file named by play and extra variables alone, without a loop, is
    expanded when the playbook loads, as ``import_tasks`` is; else it is
    included when the task runs: its file may be named by facts, registered
    results or the loop's item. Every file whose name is known when the
    playbook loads is checked before any host is contacted; one named at
    run time is checked when it is included, a bad one failing that host's
    task with its file:line. The task's own ``when`` and ``tags`` decide
    whether it includes; ``apply`` gives the included tasks keywords
    (``tags``, ``when``, ``become``, ``ignore_errors``, …). The play loop
    carries it out; the module only names the file.

    Example:
        - include_tasks: "{{ ansible_os_family | lower }}.yml"
        - include_tasks:
            file: user.yml
            apply: {tags: [users]}
          loop: "{{ users }}"
          loop_control: {loop_var: user}
    """

    name = "include_tasks"
    on_controller = True
    free_form = "file"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        file: str = arg(aliases=("_raw_params",), doc="The task file (looked for in tasks/ beside the playbook "
                                                      "or role, then beside it).")
        apply: dict = arg({}, doc="Keywords given to every included task.")

    def plan(self) -> Plan:
        raise ModuleFailure("include_tasks is carried out by the play loop")
