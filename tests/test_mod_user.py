"""user and group: real accounts with names of their own, created, changed
and removed through the modules; state read back from pwd, grp and shadow.
The steps run in order, each one's final state the next one's initial state."""

from __future__ import annotations

import grp
import os
import pwd
import subprocess

import pytest

from conftest import bad_argument_fails, write
from systable import SysCase, run_three

TAG = os.getpid()
USER, SYSUSER, GROUP_A, GROUP_B = f"crtu{TAG}", f"crtsys{TAG}", f"crtga{TAG}", f"crtgb{TAG}"
HASH = "$6$celeryroot$0123456789abcdefABCDEF"


def free_id(taken) -> int:
    return next(i for i in range(23000, 60000) if i not in taken and i + 1 not in taken)


UID = free_id({p.pw_uid for p in pwd.getpwall()})
GID = free_id({g.gr_gid for g in grp.getgrall()})


def _user(name: str):
    try:
        p = pwd.getpwnam(name)
    except KeyError:
        return None
    groups = sorted(g.gr_name for g in grp.getgrall() if name in g.gr_mem)
    return {"uid": p.pw_uid, "group": grp.getgrgid(p.pw_gid).gr_name, "groups": groups, "shell": p.pw_shell,
            "home": p.pw_dir, "comment": p.pw_gecos, "home exists": os.path.isdir(p.pw_dir)}


def _gid(name: str):
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def _hash(name: str):
    with open("/etc/shadow") as f:
        return next((line.split(":")[1] for line in f if line.split(":")[0] == name), None)


def observe() -> dict:
    return {USER: _user(USER), SYSUSER: _user(SYSUSER), GROUP_A: _gid(GROUP_A), GROUP_B: _gid(GROUP_B),
            "hash": _hash(USER), f"/home/{USER}": os.path.isdir(f"/home/{USER}")}


def _as(user: dict | None, **changes) -> dict:
    return {**user, **changes}


CREATED = {"uid": UID, "group": USER, "groups": [GROUP_A], "shell": "/bin/bash", "home": f"/home/{USER}",
           "comment": "Test User", "home exists": True}
STEPS = [
    SysCase("group-create", f"group: name={GROUP_A} gid={GID}", then={GROUP_A: GID},
            diff=f"-state: absent\n+state: present\n+gid: {GID}"),
    SysCase("group-gid", f"group: name={GROUP_A} gid={GID + 1}", then={GROUP_A: GID + 1}),
    SysCase("group-system", f"group: name={GROUP_B} system=yes"),
    SysCase("user-create", f"user: name={USER} uid={UID} shell=/bin/bash groups={GROUP_A} comment='Test User'",
            then={USER: CREATED}, diff="+shell: /bin/bash"),
    SysCase("user-attributes", f"user: name={USER} shell=/bin/sh comment=Ops group={GROUP_A}",
            then={USER: _as(CREATED, shell="/bin/sh", comment="Ops", group=GROUP_A)},
            diff="-shell: /bin/bash\n-comment: Test User\n-group: " + USER),
    SysCase("groups-append", f"user: name={USER} groups={GROUP_B} append=yes",
            then={USER: _as(CREATED, shell="/bin/sh", comment="Ops", group=GROUP_A, groups=[GROUP_A, GROUP_B])}),
    SysCase("groups-exact", f"user: name={USER} groups={GROUP_B}",
            then={USER: _as(CREATED, shell="/bin/sh", comment="Ops", group=GROUP_A, groups=[GROUP_B])}),
    SysCase("groups-none", f"user: name={USER} groups=''",
            then={USER: _as(CREATED, shell="/bin/sh", comment="Ops", group=GROUP_A, groups=[])}),
    SysCase("home-move", f"user: name={USER} home=/home/{USER}-moved move_home=yes",
            then={USER: _as(CREATED, shell="/bin/sh", comment="Ops", group=GROUP_A, groups=[],
                            home=f"/home/{USER}-moved"), f"/home/{USER}": False}),
    SysCase("password", f"user: name={USER} password='{HASH}'", then={"hash": HASH},
            diff="+password: (new hash)"),
    SysCase("password-on-create", f"user: name={USER} password=other update_password=on_create", changed=False,
            then={"hash": HASH}),
    SysCase("system-user", f"user: name={SYSUSER} system=yes create_home=no shell=/usr/sbin/nologin"),
    SysCase("user-remove", f"user: name={USER} state=absent remove=yes", then={USER: None}),
    SysCase("group-remove", f"group: name={GROUP_A} state=absent", then={GROUP_A: None}),
    SysCase("missing-group", f"user: name={USER} groups=crtest-no-such-group",
            fails="group crtest-no-such-group does not exist", then={USER: None}),
]


@pytest.fixture
def cleanup():
    yield
    for user in (USER, SYSUSER):
        subprocess.run(["userdel", "-r", user], capture_output=True)
    # USER's own group outlives it: userdel removes a user's private group
    # only while it is the user's primary group, and the steps change that.
    for group in (GROUP_A, GROUP_B, USER):
        subprocess.run(["groupdel", group], capture_output=True)
    subprocess.run(["rm", "-rf", f"/home/{USER}", f"/home/{USER}-moved"])


def test_steps(fleet, play, tmp_path, cleanup):
    for step in STEPS:
        run_three(play, tmp_path, step, observe)
        if step.id == "group-system":
            assert _gid(GROUP_B) < 1000, "a system group's id comes from the system range"
        if step.id == "system-user":
            assert _user(SYSUSER)["uid"] < 1000 and not _user(SYSUSER)["home exists"], _user(SYSUSER)


def test_check_mode_predicts_a_user_in_a_group_an_earlier_task_creates(fleet, play, tmp_path):
    """A fresh host in check mode: neither the group nor the user nor its
    home exists yet, and nothing is created."""
    book = write(tmp_path / "site.yaml", f"""
- hosts: web1
  gather_facts: false
  tasks:
    - name: group
      group: name={GROUP_A}
    - name: user
      user: name={USER} groups={GROUP_A}
    - name: a file in the new home
      file: path=/home/{USER}/.hushlogin state=touch
""")
    before = observe()
    out = play(book, "--check", inventory=write(tmp_path / "inventory.yaml", "all:\n  hosts:\n    web1:\n"))
    assert out.rc == 0, out
    assert out.total("changed") == 3, out
    assert observe() == before


@pytest.mark.parametrize("module,args,name,needle", [
    ("user", {"name": "x", "state": "gone"}, "state", "must be one of"),
    ("user", {"name": "x", "uid": "many"}, "uid", "integer"),
    ("user", {"name": "x", "update_password": "sometimes"}, "update_password", "must be one of"),
    ("user", {"shell": "/bin/sh"}, "name", "missing required argument"),
    ("group", {"name": "x", "gid": "abc"}, "gid", "integer"),
    ("group", {"name": "x", "members": ["y"]}, "members", "unsupported argument"),
], ids=["state", "uid", "update-password", "no-name", "gid", "group-unknown"])
def test_bad_arguments_fail_on_the_controller(play, tmp_path, module, args, name, needle):
    bad_argument_fails(play, tmp_path, module, args, name, needle)
