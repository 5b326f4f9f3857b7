"""sysctl against a sysctl file of the test's own, three runs a step.

The file is in a temporary directory and ``reload: no``, so the machine's
kernel is not touched, except by ``sysctl_set`` on one harmless parameter
(the burst of kernel messages printk lets through), which is put back.
"""

from __future__ import annotations

import json

import pytest

from conftest import bad_argument_fails
from systable import SysCase, run_three

KEY = "kernel.printk_ratelimit_burst"
PROC = "/proc/sys/kernel/printk_ratelimit_burst"


def read(path) -> str | None:
    try:
        with open(path) as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def sysctl(path, **args) -> str:
    return "sysctl:\n" + "\n".join(f"  {k}: {json.dumps(v)}" for k, v in {"sysctl_file": str(path), "reload": False,
                                                                **args}.items())


def test_steps(fleet, play, tmp_path):
    conf = tmp_path / "sysctl.conf"
    conf.write_text("# tuned\nvm.swappiness = 60\nnet/ipv4/ip_forward=0\n")
    steps = [
        SysCase("replace", sysctl(conf, name="vm.swappiness", value="10"),
                then={"file": "# tuned\nvm.swappiness=10\nnet/ipv4/ip_forward=0\n"},
                diff="-vm.swappiness = 60\n+vm.swappiness=10"),
        SysCase("slashes", sysctl(conf, name="net.ipv4.ip_forward", value=True),
                then={"file": "# tuned\nvm.swappiness=10\nnet.ipv4.ip_forward=1\n"}),
        SysCase("append", sysctl(conf, name="net.ipv4.ip_local_port_range", value="32768 60999"),
                then={"file": "# tuned\nvm.swappiness=10\nnet.ipv4.ip_forward=1\n"
                              "net.ipv4.ip_local_port_range=32768 60999\n"}),
        SysCase("same-value-other-spacing", sysctl(conf, name="net.ipv4.ip_local_port_range", value="32768\t60999"),
                changed=False),
        SysCase("absent", sysctl(conf, name="vm.swappiness", state="absent"),
                then={"file": "# tuned\nnet.ipv4.ip_forward=1\nnet.ipv4.ip_local_port_range=32768 60999\n"}),
        SysCase("new-file", sysctl(tmp_path / "new.conf", name="vm.swappiness", value="10"),
                then={"new": "vm.swappiness=10\n"}),
        SysCase("no-directory", sysctl(tmp_path / "none/x.conf", name="vm.swappiness", value="1"),
                fails="does not exist"),
    ]
    for step in steps:
        run_three(play, tmp_path, step, lambda: {"file": read(conf), "new": read(tmp_path / "new.conf")})


def test_sysctl_set_and_reload_a_harmless_parameter(fleet, play, tmp_path):
    original = read(PROC).strip()
    wanted = "11" if original != "11" else "12"
    conf = tmp_path / "set.conf"
    try:
        step = SysCase("set", sysctl(conf, name=KEY, value=wanted, sysctl_set=True),
                       then={"kernel": wanted, "file": f"{KEY}={wanted}\n"}, diff=f"+{KEY}: {wanted}")
        run_three(play, tmp_path, step, lambda: {"kernel": read(PROC).strip(), "file": read(conf)})
        # reload: the file is loaded into the kernel when it changes.
        conf.write_text("")
        with open(PROC, "w") as fh:
            fh.write(original)
        step = SysCase("reload", sysctl(conf, name=KEY, value=wanted, reload=True), then={"kernel": wanted})
        run_three(play, tmp_path, step, lambda: {"kernel": read(PROC).strip(), "file": read(conf)})
    finally:
        with open(PROC, "w") as fh:
            fh.write(original)


@pytest.mark.parametrize("args,name,needle", [
    ({"name": "vm.swappiness"}, "value", "required with state=present"),
    ({"name": "vm.swappiness", "value": "1", "state": "gone"}, "state", "must be one of"),
    ({"value": "1"}, "name", "missing required"),
], ids=["value", "state", "name"])
def test_bad_arguments_fail_on_the_controller(play, tmp_path, args, name, needle):
    bad_argument_fails(play, tmp_path, "sysctl", args, name, needle)
