"""fail: stop the host with a message."""

from dataclasses import dataclass

from ..module import Module, ModuleFailure, Plan, arg


class Fail(Module):
    """Fail the host with a message (usually under a ``when``).

    Example:
        - fail:
            msg: "this play needs Debian, not {{ ansible_distribution }}"
          when: ansible_os_family != 'Debian'
    """

    name = "fail"
    on_controller = True

    @dataclass(frozen=True, kw_only=True)
    class Args:
        msg: str = arg("Failed as requested from task", doc="The message.")

    def plan(self) -> Plan:
        raise ModuleFailure(self.args.msg)
