"""reboot: reboot the host and wait for its worker to come back."""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass

from ..module import ArgError, Change, Module, Plan, arg
from ..result import REBOOT


class Reboot(Module):
    """Reboot the host, wait for it to come back, and go on with the play.

    The worker records the pending reboot on disk with the boot's id
    (/proc/sys/kernel/random/boot_id), says in its heartbeat that the host
    reboots (so the controller waits up to ``reboot_timeout`` instead of
    taking it for unreachable), waits ``pre_reboot_delay`` and runs
    ``reboot_command``. The worker of the next boot finds the record, sees
    a new boot id, waits ``post_reboot_delay``, runs ``test_command`` and
    answers the task, signed as every result: ``rebooted: true`` and
    ``elapsed`` (seconds). The task is never run twice: its message was
    taken before the reboot, and the record is removed before it is
    answered. In check mode it reports ``changed`` and reboots nothing. Its
    plays run linearly (the result comes from the next boot's worker).

    Example:
        - reboot:
        - reboot: msg="kernel upgrade" reboot_timeout=300 post_reboot_delay=5
    """

    name = "reboot"
    needs_controller = "its result comes from the worker of the host's next boot"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        msg: str = arg("Reboot initiated by Ansible", doc="Message shown to logged-in users before the reboot.")
        pre_reboot_delay: int = arg(0, doc="Seconds to wait before rebooting.")
        post_reboot_delay: int = arg(0, doc="Seconds to wait after the host is back, before test_command.")
        reboot_timeout: int = arg(600, doc="Seconds the host may take to reboot and answer test_command.")
        test_command: str = arg("whoami", doc="Command that must succeed after the reboot.")
        reboot_command: str | None = arg(None, doc="Command that reboots (default: shutdown -r now MSG).")

        def check(self) -> None:
            for name in ("pre_reboot_delay", "post_reboot_delay", "reboot_timeout"):
                if getattr(self, name) < 0:
                    raise ArgError(name, f"argument '{name}' must not be negative")

    def plan(self) -> Plan:
        # As Ansible's check mode says it; the next boot's worker tells the real elapsed.
        return Plan([Change("reboot the host")], data={"rebooted": True, "elapsed": 0})

    def apply(self, plan: Plan) -> dict:
        order = asdict(self.args)
        order["reboot_command"] = self.args.reboot_command or f"shutdown -r now {shlex.quote(self.args.msg)}"
        return {REBOOT: order}

