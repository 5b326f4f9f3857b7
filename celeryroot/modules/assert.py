"""assert: check expressions against the host's variables."""

from dataclasses import dataclass
from typing import Any

from jinja2 import UndefinedError

from ..module import Module, ModuleFailure, Plan, arg
from ..lang.templating import TemplateFailure, condition


class Assert(Module):
    """Fail unless every expression in ``that`` holds for the host.

    Example:
        - assert:
            that:
              - ansible_distribution == 'Debian'
              - app_port | int > 1024
            fail_msg: unsupported host
    """

    name = "assert"
    on_controller = True

    @dataclass(frozen=True, kw_only=True)
    class Args:
        that: Any = arg(convert=lambda v: v if isinstance(v, list) else [v],
                        doc="Expressions (as in `when`) that must all be true; one or a list.")
        fail_msg: str | None = arg(None, aliases=("msg",), doc="Message when an expression is false.")
        success_msg: str = arg("All assertions passed", doc="Message when all hold.")
        quiet: bool = arg(False, doc="Accepted for compatibility.")

    def plan(self) -> Plan:
        for expression in self.args.that:
            try:
                holds = condition(expression, self.ctx.vars)
            except (TemplateFailure, UndefinedError) as exc:
                raise ModuleFailure(f"cannot evaluate {expression!r}: {exc}", assertion=expression) from None
            if not holds:
                raise ModuleFailure(self.args.fail_msg or "Assertion failed", assertion=expression,
                                    evaluated_to=False)
        return Plan(reason=self.args.success_msg)
