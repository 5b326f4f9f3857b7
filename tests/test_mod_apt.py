"""apt against a local repository of tiny packages, with real apt-get and dpkg.

apt is pointed at tests/debrepo.py's repository only, through an
APT_CONFIG file (the task's ``environment:`` here, the worker's own
environment in the play test); nothing is fetched from the network. The
steps run in order, each one's final state the next one's initial state.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import threading
import time

import pytest

from conftest import bad_argument_fails, free_port, wait_for, write
from debrepo import Repo, hello, purge
from systable import SysCase, run_three
import sysvdaemon
from sysvdaemon import answer

NAMES = ["crtest-hello", "crtest-app", "crtest-lib", "crtest-daemon", "crtest-tinypkg"]
DPKG_LOCK = "/var/lib/dpkg/lock-frontend"


def packages() -> dict:
    """dpkg's status and version of each test package (absent: not listed)."""
    done = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${db:Status-Status} ${Version}\n", *NAMES],
                          capture_output=True, text=True)
    return {name: f"{status} {version}" for name, status, version in
            (line.split() for line in done.stdout.splitlines()) if status != "not-installed"}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    purge(NAMES)
    built = Repo.build(tmp_path_factory.mktemp("debrepo"), daemon_port=free_port())
    built.update()
    # An hour-old update, so update_cache with cache_valid_time has work to do.
    old = time.time() - 3600
    os.utime(built.lists, (old, old))
    yield built
    sysvdaemon.uninstall("crtest-daemon")
    purge(NAMES)


STEPS = [
    # The repository has not changed since the last update: nothing to do,
    # though the lists are older than cache_valid_time.
    SysCase("update-cache", "apt: update_cache=yes cache_valid_time=600", changed=False),
    SysCase("no-names", "apt:\n  name: []", changed=False),
    SysCase("pin", "apt: name=crtest-hello=1.0", then={"crtest-hello": "installed 1.0"},
            diff="-crtest-hello: absent\n+crtest-hello: 1.0"),
    SysCase("latest", "apt: name=crtest-hello state=latest", then={"crtest-hello": "installed 2.0"},
            diff="-crtest-hello: 1.0\n+crtest-hello: 2.0"),
    SysCase("present-any-version", "apt: name=crtest-hello", changed=False, then={"crtest-hello": "installed 2.0"}),
    SysCase("downgrade", "apt: name=crtest-hello=1.0 allow_downgrade=yes", then={"crtest-hello": "installed 1.0"}),
    SysCase("upgrade", "apt: upgrade=yes", then={"crtest-hello": "installed 2.0"},
            diff="-crtest-hello: 1.0\n+crtest-hello: 2.0"),
    SysCase("dist-upgrade-nothing", "apt: upgrade=dist", changed=False),
    SysCase("remove", "apt: name=crtest-hello state=absent", then={"crtest-hello": "config-files 2.0"}),
    SysCase("purge", "apt: name=crtest-hello state=absent purge=yes", then={"crtest-hello": None}),
    SysCase("dependency", "apt:\n  name: [crtest-app]\n  install_recommends: no",
            then={"crtest-app": "installed 1.0", "crtest-lib": "installed 1.0"}),
    SysCase("autoremove", "apt: name=crtest-app state=absent autoremove=yes",
            then={"crtest-app": None, "crtest-lib": None}),
    SysCase("unknown", "apt: name=crtest-no-such-package", fails="Unable to locate package crtest-no-such-package"),
]


def lists(repo) -> dict:
    """Each list's size and time, and the time of the last update."""
    return {"lists": {entry.name: (entry.stat().st_size, entry.stat().st_mtime_ns) for entry in os.scandir(repo.lists)
                      if entry.is_file()}, "lists updated": os.stat(repo.lists).st_mtime}


def test_steps(fleet, play, repo, tmp_path):
    env = f"environment: {{APT_CONFIG: '{repo.apt_config}'}}"

    def observe() -> dict:
        return {**packages(), **lists(repo)}

    results = {}
    for step in STEPS:
        results[step.id] = run_three(play, tmp_path, step, observe, task_extra=env)
    assert time.time() - os.stat(repo.lists).st_mtime > 3000, "an update that changed nothing keeps its time"
    assert results["update-cache"]["apply"]["msg"] == "package lists are up to date"
    assert results["latest"]["apply"]["upgraded"] == {"crtest-hello": "1.0 -> 2.0"}
    assert results["upgrade"]["check"]["upgraded"] == {"crtest-hello": "1.0 -> 2.0"}
    assert results["dependency"]["check"]["installed"] == {"crtest-app": "1.0", "crtest-lib": "1.0"}
    assert results["dependency"]["apply"]["installed"] == {"crtest-app": "1.0", "crtest-lib": "1.0"}
    assert results["autoremove"]["apply"]["removed"] == {"crtest-app": "1.0", "crtest-lib": "1.0"}


def test_new_versions(fleet, play, repo, tmp_path):
    """A .deb file installed, a newer version published in the repository,
    the lists updated (changed now) and the package upgraded in one task,
    and upgrades to it."""
    env = f"environment: {{APT_CONFIG: '{repo.apt_config}'}}"

    def observe() -> dict:
        return {**packages(), **lists(repo)}

    old = repo.deb("crtest-hello", "1.0")
    steps = [
        SysCase("deb", f"apt: deb={old}", then={"crtest-hello": "installed 1.0"},
                diff="-crtest-hello: absent\n+crtest-hello: 1.0"),
        SysCase("update-published", "apt: name=crtest-hello state=latest update_cache=yes",
                then={"crtest-hello": "installed 3.0"}, diff="Packages"),
        SysCase("deb-downgrade", f"apt: deb={old} allow_downgrade=yes", then={"crtest-hello": "installed 1.0"}),
        SysCase("only-upgrade", "apt:\n  name: [crtest-hello, crtest-app]\n  state: latest\n  only_upgrade: yes",
                then={"crtest-hello": "installed 3.0", "crtest-app": None}),
        SysCase("deb-downgrade-again", f"apt: deb={old} allow_downgrade=yes", then={"crtest-hello": "installed 1.0"}),
        SysCase("full-upgrade", "apt: upgrade=full", then={"crtest-hello": "installed 3.0"}),
        SysCase("deb-missing", f"apt: deb={tmp_path}/nothing.deb", fails="cannot read the package"),
    ]
    results = {}
    for step in steps:
        if step.id == "update-published":
            repo.publish(hello("3.0"))
        results[step.id] = run_three(play, tmp_path, step, observe, task_extra=env)
    # The check ran before the update: it predicted from the lists the update would bring.
    assert results["update-published"]["check"]["upgraded"] == {"crtest-hello": "1.0 -> 3.0"}
    assert results["update-published"]["apply"]["cache_updated"] is True
    assert time.time() - os.stat(repo.lists).st_mtime < 600
    assert results["full-upgrade"]["apply"]["upgraded"] == {"crtest-hello": "1.0 -> 3.0"}
    purge(["crtest-hello"])


def test_package_is_apt_here(fleet, play, repo, tmp_path):
    env = f"environment: {{APT_CONFIG: '{repo.apt_config}'}}"
    for step in [
        SysCase("package", "package: name=crtest-app state=present use=apt",
                then={"crtest-app": "installed 1.0", "crtest-lib": "installed 1.0"}),
        SysCase("package-absent", "package:\n  name: [crtest-app, crtest-lib]\n  state: absent",
                then={"crtest-app": None, "crtest-lib": None}),
    ]:
        run_three(play, tmp_path, step, packages, task_extra=env)


class HeldLock:
    """dpkg's frontend lock held by this test process for ``seconds``, as
    another apt-get or unattended-upgrades would hold it."""

    def __init__(self, seconds: float):
        self.file = open(DPKG_LOCK, "w")
        fcntl.lockf(self.file, fcntl.LOCK_EX)
        self.timer = threading.Timer(seconds, self.release)
        self.timer.start()

    def release(self) -> None:
        fcntl.lockf(self.file, fcntl.LOCK_UN)
        self.file.close()


def _lock_book(tmp_path, repo, args: str):
    return write(tmp_path / "lock.yaml", f"""
- hosts: web1
  gather_facts: false
  tasks:
    - name: install
      environment: {{APT_CONFIG: '{repo.apt_config}'}}
      apt: name=crtest-lib {args}
""")


def test_waits_for_the_dpkg_lock(fleet, play, repo, tmp_path, fleet_inventory):
    book = _lock_book(tmp_path, repo, "")
    started = time.monotonic()
    HeldLock(3)
    out = play(book, inventory=fleet_inventory)
    assert out.rc == 0, out
    assert out.results("install")["web1"]["changed"]
    assert time.monotonic() - started >= 3
    assert packages()["crtest-lib"] == "installed 1.0"
    purge(["crtest-lib"])


def test_lock_timeout_bounds_the_wait(fleet, play, repo, tmp_path, fleet_inventory):
    book = _lock_book(tmp_path, repo, "lock_timeout=1")
    lock = HeldLock(8)
    out = play(book, inventory=fleet_inventory)
    lock.timer.cancel()
    lock.release()
    assert out.rc == 2, out
    res = out.results("install")["web1"]
    assert res["failed"] and "lock_timeout" in res["msg"] and DPKG_LOCK in res["msg"], res
    assert "crtest-lib" not in packages()


def test_check_mode_predicts_the_service_of_a_package_it_would_install(workers, play, repo, tmp_path):
    """Ansible fails here in check mode (ansible#82048): the service does
    not exist until the package is installed. The worker gets APT_CONFIG in
    its own environment, as an operator would set it for a host."""
    workers.start("aptbox", env=repo.env())
    book = write(tmp_path / "site.yaml", """
- hosts: aptbox
  gather_facts: false
  tasks:
    - name: package
      apt: name=crtest-daemon
    - name: its service
      service: name=crtest-daemon state=started enabled=yes
""")
    inventory = write(tmp_path / "inventory.yaml", "all:\n  hosts:\n    aptbox:\n")
    port = repo.daemon_port
    checked = play(book, "--check", inventory=inventory)
    assert checked.rc == 0, checked
    assert all(checked.results(t)["aptbox"]["changed"] for t in ("package", "its service"))
    assert "crtest-daemon" not in packages() and not answer(port)
    applied = play(book, inventory=inventory)
    assert applied.rc == 0, applied
    assert all(applied.results(t)["aptbox"]["changed"] for t in ("package", "its service"))
    wait_for(lambda: answer(port), 10, "crtest-daemon on its port")
    again = play(book, inventory=inventory)
    assert again.rc == 0 and again.total("changed") == 0, again


TINY_BOOK = """
- hosts: aptbox
  gather_facts: false
  tasks:
    - name: package
      apt: name=crtest-tinypkg
    - name: its configuration
      template: src=conf.j2 dest=/etc/crtest-tinypkg/conf mode=0640
"""


@pytest.mark.parametrize("way", ["bundles", "linear"])
def test_check_mode_knows_the_directories_a_package_would_create(workers, play, repo, tmp_path, way):
    """A template into /etc/PACKAGE/ after the task that installs PACKAGE
    (apt: name=haproxy, then /etc/haproxy/haproxy.cfg): --check reads the
    package's files from its .deb and predicts both, installing nothing;
    where the .deb cannot be had, the template still predicts changed and
    says why. Whole-play bundles and the linear strategy alike."""
    workers.start("aptbox", env=repo.env())
    write(tmp_path / "templates/conf.j2", "host={{ inventory_hostname }}\n")
    book = write(tmp_path / "site.yaml", TINY_BOOK)
    inventory = write(tmp_path / "inventory.yaml", "all:\n  hosts:\n    aptbox:\n")
    forced = ["--strategy", "linear"] if way == "linear" else []

    def run(*flags):
        out = play(book, *forced, *flags, inventory=inventory)
        assert out.rc == 0, out
        (execution,) = [p["play"]["execution"]["mode"] for p in out.doc["plays"]]
        assert execution == way, out.doc["plays"][0]["play"]["execution"]
        return {t: out.results(t)["aptbox"] for t in ("package", "its configuration")}

    checked = run("--check")
    assert all(r["changed"] for r in checked.values()), checked
    assert "assuming" not in checked["its configuration"]["msg"], "the directory was learned from the package"
    assert "crtest-tinypkg" not in packages() and not os.path.exists("/etc/crtest-tinypkg")
    deb = repo.deb("crtest-tinypkg", "1.0")
    hidden = deb.with_suffix(".away")
    deb.rename(hidden)  # the repository lists it, but its file cannot be fetched
    try:
        blind = run("--check")
    finally:
        hidden.rename(deb)
    assert all(r["changed"] for r in blind.values()), blind
    msg = blind["its configuration"]["msg"]
    assert "assuming /etc/crtest-tinypkg, " in msg and ("will exist: an earlier task would install crtest-tinypkg, "
                                                         "whose files could not be read") in msg, msg
    assert "crtest-tinypkg" not in packages()
    try:
        applied = run()
        assert all(r["changed"] for r in applied.values()), applied
        assert open("/etc/crtest-tinypkg/conf").read() == "host=aptbox\n"
        again = run()
        assert not any(r["changed"] for r in again.values()), again
    finally:
        purge(["crtest-tinypkg"])
        if os.path.exists("/etc/crtest-tinypkg/conf"):
            os.unlink("/etc/crtest-tinypkg/conf")
            os.rmdir("/etc/crtest-tinypkg")


@pytest.mark.parametrize("args,name,needle", [
    ({"name": "crtest-hello", "state": "installed"}, "state", "must be one of"),
    ({"name": "crtest-hello=1.0", "state": "latest"}, "name", "not allowed with state=latest"),
    ({"purge": True}, "name", "is required"),
    ({"name": "crtest-hello", "upgrade": "yes"}, "upgrade", "mutually exclusive"),
    ({"deb": "http://example.org/x.deb"}, "deb", "URL is not supported"),
    ({"upgrade": "sometimes"}, "upgrade", "must be one of"),
    ({"name": "crtest-hello", "lock_timeout": "soon"}, "lock_timeout", "integer"),
], ids=["state", "latest-pinned", "nothing", "upgrade-with-name", "deb-url", "upgrade-word", "lock-timeout"])
def test_bad_arguments_fail_on_the_controller(play, tmp_path, args, name, needle):
    bad_argument_fails(play, tmp_path, "apt", args, name, needle)


@pytest.mark.parametrize("args,name,needle", [
    ({"name": "crtest-hello", "state": "present", "use": "dnf"}, "use", "not a package manager celeryroot has"),
    ({"name": "crtest-hello"}, "state", "missing required"),
    ({"name": "crtest-hello=1.0", "state": "latest"}, "name", "not allowed with state=latest"),
], ids=["use", "state", "latest-pinned"])
def test_package_refuses_what_apt_cannot_do(play, tmp_path, args, name, needle):
    bad_argument_fails(play, tmp_path, "package", args, name, needle)
