"""ping: prove the host's worker answers."""

from dataclasses import dataclass

from ..module import Module, ModuleFailure, Plan, arg


class Ping(Module):
    """Check that the host's worker is alive and runs modules; returns ``pong``.

    Example:
        - name: are you there?
          ping:
    """

    name = "ping"
    as_user = True

    @dataclass(frozen=True, kw_only=True)
    class Args:
        data: str = arg("pong", doc="Value to return as ``ping``; 'crash' makes the module fail.")

    def plan(self) -> Plan:
        if self.args.data == "crash":
            raise ModuleFailure("boom: ping was asked to crash")
        return Plan(reason=self.args.data, data={"ping": self.args.data})
