"""debug: print a message or a variable (runs beside the host's variables)."""

from dataclasses import dataclass
from typing import Any

from jinja2 import UndefinedError

from ..module import Module, Plan, arg
from ..lang.templating import evaluate


#: Ansible's mark on a debug result: shown at any verbosity.
SHOWN = {"_ansible_verbose_always": True}


class Debug(Module):
    """Print a message, or the value of a variable, for each host.

    Runs where the host's variables are (the controller, or the worker in a
    whole-play bundle) and never changes anything.

    Example:
        - debug:
            msg: "{{ inventory_hostname }} runs {{ ansible_distribution }}"
        - debug:
            var: result.stdout_lines
    """

    name = "debug"
    on_controller = True

    @dataclass(frozen=True, kw_only=True)
    class Args:
        msg: Any = arg("Hello world!", doc="The message to print.")
        var: str | None = arg(None, doc="A variable name or expression to print instead of msg.")
        verbosity: int = arg(0, doc="Accepted for compatibility; debug always prints.")

    def plan(self) -> Plan:
        if self.args.var is None:
            return Plan(reason=str(self.args.msg), data={"msg": self.args.msg, **SHOWN})
        try:
            value = evaluate(self.args.var, self.ctx.vars)
        except UndefinedError:
            value = "VARIABLE IS NOT DEFINED!"
        return Plan(reason=f"{self.args.var}: {value!r}", data={self.args.var: value, **SHOWN})
