"""Differential tests on test hosts: playbooks and a Galaxy-shaped role the
team wrote (tests/compat) run by ``ansible-playbook -c local`` on one fresh
host and by celeryroot on another, three times each: ``--check``, the first
run, the second. Per run the exit status, the recap and every task's status
must be the same, and so must what the play manages inside the two hosts
(files with modes and owners, packages, services, users); ``--check``
changes nothing on either. Real Debian packages (apache2, haproxy, rsyslog)
install offline from a cached repository (hosts/debs.py).

Where celeryroot differs from Ansible on purpose, EXPECTED says where and
why (the README's "Differences from Ansible" lists the same); the run must
then differ exactly there and be the same before it. The session ends with
the table of every run (conftest.summary_row).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from conftest import Play, write
from hosts import compat
from hosts.fixtures import fleet_of

TABLE = "differential runs on test hosts (tests/test_containers_differential.py)"
HEADER = ("playbook/role", "run", "Ansible recap", "celeryroot recap", "same?", "Ansible s", "celeryroot s")
RUNS = (("--check", ("--check",)), ("first", ()), ("second", ()))


@dataclass(frozen=True)
class Case:
    id: str
    playbook: str
    state: dict

    @property
    def hosts(self) -> tuple[str, str]:
        """The Ansible host and the celeryroot host."""
        return f"ans-{self.id}", f"cr-{self.id}"


CASES = [
    Case("web", "roles/webserver/tests/test.yml", {
        "files": ["/etc/apache2/ports.conf", "/etc/apache2/sites-available/compat.conf",
                  "/etc/apache2/sites-enabled/compat.conf", "/etc/apache2/sites-enabled/000-default.conf",
                  "/var/www/compat", "/var/www/compat/index.html"],
        "packages": ["apache2"], "services": ["apache2"]}),
    Case("lb", "haproxy.yml", {"files": ["/etc/haproxy", "/etc/haproxy/haproxy.cfg"], "packages": ["haproxy"],
                               "services": ["haproxy"]}),
    Case("log", "rsyslog.yml", {
        "files": ["/var/log/applog", "/etc/rsyslog.d/30-app.conf", "/etc/rsyslog.conf"],
        "packages": ["rsyslog"], "services": ["rsyslog"], "users": ["applog"]}),
    Case("basics", "basics.yml", {
        "files": ["/home/alice/.ssh", "/home/alice/.ssh/authorized_keys", "/home/bob/.ssh/authorized_keys",
                  "/etc/motd", "/etc/profile.d/team.sh", "/etc/team"],
        "users": ["alice", "bob"], "commands": ["crontab -l -u root | grep -v '^# '"]}),
    Case("lang", "language.yml", {"trees": ["/srv/app"]}),
]


@dataclass(frozen=True)
class Expected:
    """A deliberate difference: the first task whose status differs, each
    tool's status there, and why."""

    task: str
    ansible: str
    celeryroot: str
    reason: str


#: (case, run) -> the deliberate difference of that run (README: Differences from Ansible).
EXPECTED = {
    ("web", "--check"): Expected(
        "the site is enabled", "failed", "changed",
        "--check: a link to the file an earlier template would write (ansible#82048)"),
    ("lb", "--check"): Expected(
        "haproxy runs and starts at boot", "failed", "changed",
        "--check: the service of the package an earlier task would install (ansible#82048)"),
    ("log", "--check"): Expected(
        "rsyslog creates files its group reads", "failed", "changed",
        "--check: lineinfile in a file the package an earlier task would install ships (ansible#82048)"),
    ("lang", "--check"): Expected(
        "a setting changed in place", "failed", "changed",
        "--check: lineinfile in a file an earlier template would write (ansible#82048)"),
}

ALL_HOSTS = [name for case in CASES for name in case.hosts]
hosts = fleet_of(*ALL_HOSTS, workers=[case.hosts[1] for case in CASES], binds=compat.binds,
                 setup=compat.setup_for({case.hosts[0] for case in CASES}))


def compare(case: Case, run: str, ansible: compat.Run, celeryroot: compat.Run) -> list[str]:
    """What differs between the two runs that EXPECTED does not explain."""
    expected = EXPECTED.get((case.id, run))
    if expected is None:
        wrong = []
        if celeryroot.statuses != ansible.statuses:
            wrong.append(f"statuses: ansible {ansible.statuses} celeryroot {celeryroot.statuses}")
        if celeryroot.recap != ansible.recap:
            wrong.append(f"recap: ansible {ansible.recap} celeryroot {celeryroot.recap}")
        if celeryroot.rc != ansible.rc or ansible.rc != 0:
            wrong.append(f"rc: ansible {ansible.rc} celeryroot {celeryroot.rc}")
        return wrong
    at = next((i for i, (a, c) in enumerate(zip(ansible.statuses, celeryroot.statuses)) if a != c), None)
    if at is None:
        return [f"expected {expected} but the statuses agree: {ansible.statuses}"]
    seen = (ansible.statuses[at][1], ansible.statuses[at][2], celeryroot.statuses[at][2])
    if seen != (expected.task, expected.ansible, expected.celeryroot):
        return [f"expected the first difference {expected}, saw {seen}"]
    return [] if celeryroot.rc == 0 else [f"celeryroot rc {celeryroot.rc}"]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_ansible_and_celeryroot_agree_on_fresh_hosts(hosts, case, tmp_path, summary_row):
    ans_host, cr_host = (hosts.hosts[name] for name in case.hosts)
    play = Play(hosts.broker.url, tmp_path)
    inventory = write(tmp_path / "inventory.yaml", f"all:\n  hosts:\n    {cr_host.name}:\n")
    fresh = compat.state(ans_host, case.state)
    wrong = [] if compat.state(cr_host, case.state) == fresh else ["the two hosts differ before any run"]
    for run, args in RUNS:
        ansible = compat.ansible(ans_host, case.playbook, *args)
        celeryroot = compat.celeryroot(play, inventory, cr_host.name, case.playbook, *args)
        differs = compare(case, run, ansible, celeryroot)
        states = compat.state(ans_host, case.state), compat.state(cr_host, case.state)
        if run == "--check":
            differs += [f"--check changed {tool}'s host" for tool, seen in zip(("ansible", "celeryroot"), states)
                        if seen != fresh]
        elif states[0] != states[1]:
            differs.append(f"final state: ansible {states[0]} celeryroot {states[1]}")
        expected = EXPECTED.get((case.id, run))
        same = "NO" if differs else f"expected: {expected.reason}" if expected else "yes"
        summary_row(TABLE, HEADER, (case.playbook, run, ansible.recap_text(), celeryroot.recap_text(), same,
                                    f"{ansible.seconds:.1f}", f"{celeryroot.seconds:.1f}"))
        wrong += [f"{run}: {d}" for d in differs]
        if differs:
            wrong.append(f"{run}: ansible {ansible!r}\nceleryroot {celeryroot!r}")
    assert not wrong, "\n".join(wrong)
