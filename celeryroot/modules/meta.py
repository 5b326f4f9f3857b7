"""meta: act on the run itself (flush handlers, end the play or a host)."""

from dataclasses import dataclass

from ..module import Module, Plan, arg

ACTIONS = ("flush_handlers", "noop", "end_play", "end_host", "refresh_inventory", "clear_facts")


class Meta(Module):
    """Act on the run itself: flush handlers, end the play or a host.

    ``flush_handlers`` runs the handlers notified so far; ``end_play`` ends
    the play for every host, ``end_host`` for this one. The strategy carries
    the action out; the module only names it.

    Example:
        - meta: flush_handlers
    """

    name = "meta"
    on_controller = True
    free_form = "action"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        action: str = arg(choices=ACTIONS, aliases=("_raw_params",), doc="What to do.")

    def plan(self) -> Plan:
        return Plan(reason=self.args.action, data={"meta": self.args.action})
