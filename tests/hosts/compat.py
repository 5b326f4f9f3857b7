"""The differential harness on test hosts: the same playbook run by
``ansible-playbook -c local`` inside one host and by celeryroot (its worker
on another host, the controller here), both hosts fresh from the same image
with the same real Debian packages available offline. Each run gives its
exit status, recap, every task's status and its time; ``state`` reads what
the playbooks manage inside a host: files (mode, owner, content), packages
(dpkg), services (systemd) and users.

ansible-core is installed into its hosts from a wheelhouse, as a user would
with pip; celeryroot's worker by contrib/install.sh (fleet.Fleet). The
playbooks are read from the project snapshot every host has (tests/compat).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from statuses import celeryroot_statuses, celeryroot_tasks, status, task_name

from . import PROJECT
from .containers import SRC_IN_HOST, ansible_wheelhouse
from .debs import DEBIAN_IN_HOST, debian_repository, use_source

#: Real packages the playbooks install, and python3-apt, which Ansible's apt
#: module needs (in --check it cannot install it itself).
PACKAGES = ["apache2", "haproxy", "rsyslog", "python3-apt"]
ANSIBLE_WHEELS_IN_HOST = "/srv/ansible-wheels"
ANSIBLE_IN_HOST = "/opt/ansible"
COMPAT = "tests/compat"
STATUSES, RECAP, INVENTORY = "/root/statuses.jsonl", "/root/recap.json", "/root/inventory"
NOINTERACTIVE = {"DEBIAN_FRONTEND": "noninteractive"}


def binds(rootfs: Path, log) -> dict[str, str]:
    """Fleet's ``binds``: the Debian packages and ansible-core's wheels."""
    return {str(debian_repository(rootfs, PACKAGES, log)): DEBIAN_IN_HOST,
            str(ansible_wheelhouse(rootfs, log)): ANSIBLE_WHEELS_IN_HOST}


def setup_for(ansible_hosts: set[str]):
    """Fleet's ``setup``: every host gets the package repository as its
    apt source and python3-apt (so both hosts are the same Debian system);
    the hosts in ``ansible_hosts`` get ansible-core in a virtualenv."""
    def setup(host) -> None:
        use_source(host, DEBIAN_IN_HOST, "debian")
        host.run("apt-get", "install", "-y", "-q", "python3-apt", env=NOINTERACTIVE, timeout=300)
        if host.name in ansible_hosts:
            requirement = next(line for line in (PROJECT / "tests/requirements-ansible.txt").read_text().splitlines()
                               if line and not line.startswith("#"))
            host.run("python3", "-m", "venv", ANSIBLE_IN_HOST)
            host.run(f"{ANSIBLE_IN_HOST}/bin/pip", "install", "-q", "--no-index", "--find-links",
                     ANSIBLE_WHEELS_IN_HOST, requirement, timeout=300)
    return setup


@dataclass
class Run:
    """One tool's run on one host; ``statuses`` are ``(kind, task, status)``,
    ``failures`` what each failed task said (``(task, msg)``)."""

    rc: int
    recap: dict
    statuses: list[tuple[str, str, str]]
    seconds: float
    failures: list[tuple[str, str]]
    output: str = field(repr=False)

    def recap_text(self) -> str:
        return " ".join(f"{k}={self.recap.get(k, 0)}" for k in ("ok", "changed", "failed", "skipped")) \
            if self.recap else f"none (rc {self.rc})"

    def __repr__(self) -> str:
        return f"Run(rc={self.rc}, recap={self.recap}, failures={self.failures}, output={self.output[-2000:]!r})"


def ansible(host, playbook: str, *args: str) -> Run:
    """``ansible-playbook -c local`` of tests/compat/PLAYBOOK inside ``host``,
    whose inventory names it (so its recap is per host, as celeryroot's)."""
    host.run("sh", "-c", f"cat > {INVENTORY}; rm -f {STATUSES} {RECAP}",
             input=f"{host.name} ansible_python_interpreter=/usr/bin/python3\n")
    env = {"ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_DEPRECATION_WARNINGS": "0",
           "ANSIBLE_CALLBACK_PLUGINS": f"{SRC_IN_HOST}/tests/ansible_callbacks",
           "ANSIBLE_CALLBACKS_ENABLED": "celeryroot_statuses", "CELERYROOT_STATUSES": STATUSES,
           "CELERYROOT_RECAP": RECAP}
    started = time.monotonic()
    proc = host.run(f"{ANSIBLE_IN_HOST}/bin/ansible-playbook", "-c", "local", "-i", INVENTORY,
                    f"{SRC_IN_HOST}/{COMPAT}/{playbook}", *args, check=False, timeout=600, env=env)
    seconds = time.monotonic() - started
    lines = [json.loads(line) for line in host.run("cat", STATUSES, check=False).stdout.splitlines()]
    recap = json.loads(host.run("cat", RECAP, check=False).stdout or "{}").get(host.name, {})
    return Run(proc.returncode, recap, [(r["kind"], r["task"], r["status"]) for r in lines], seconds,
               [(r["task"], r["msg"]) for r in lines if r["status"] == "failed"], proc.stdout + proc.stderr)


def celeryroot(play, inventory: Path, host: str, playbook: str, *args: str) -> Run:
    """celeryroot-play of tests/compat/PLAYBOOK here, on ``host``'s worker."""
    out = play(PROJECT / COMPAT / playbook, *args, inventory=inventory, timeout=600)
    tasks = celeryroot_tasks(out.doc, host)
    failures = [(task_name(t), t["hosts"][host].get("msg")) for t in tasks if status(t["hosts"][host]) == "failed"]
    return Run(out.rc, (out.doc or {}).get("stats", {}).get(host, {}), celeryroot_statuses(tasks, host),
               out.seconds, failures, out.stderr if out.doc else out.stdout + out.stderr)


#: Run inside a host with the spec as its argument: what the spec names, as JSON.
PROBE = r"""
import grp, hashlib, json, os, pwd, stat, subprocess, sys
spec = json.loads(sys.argv[1])
def run(*argv):
    return subprocess.run(argv, capture_output=True, text=True).stdout.strip()
def entry(path):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    kind = "link" if stat.S_ISLNK(st.st_mode) else "dir" if stat.S_ISDIR(st.st_mode) else "file"
    out = {"kind": kind, "mode": oct(stat.S_IMODE(st.st_mode)), "owner": pwd.getpwuid(st.st_uid).pw_name,
           "group": grp.getgrgid(st.st_gid).gr_name}
    if kind == "link":
        out["target"] = os.readlink(path)
    elif kind == "file":
        data = open(path, "rb").read()
        out["content"] = data.decode() if len(data) < 4096 else hashlib.sha256(data).hexdigest()
    return out
def below(top):
    return [os.path.join(d, n) for d, dirs, files in os.walk(top) for n in dirs + files]
paths = spec.get("files", []) + [p for top in spec.get("trees", []) for p in [top, *below(top)]]
state = {"files": {p: entry(p) for p in paths},
         "packages": {p: run("dpkg-query", "-W", "-f=${db:Status-Abbrev}", p) for p in spec.get("packages", [])},
         "services": {s: run("systemctl", "is-active", s) + " " + run("systemctl", "is-enabled", s)
                      for s in spec.get("services", [])},
         "users": {u: run("getent", "passwd", u) + " groups: " + run("id", "-nG", u) for u in spec.get("users", [])},
         "commands": {c: run("sh", "-c", c) for c in spec.get("commands", [])}}
print(json.dumps(state, sort_keys=True))
"""


def state(host, spec: dict) -> dict:
    """What ``spec`` names (``files``, every file of ``trees``, ``packages``,
    ``services``, ``users``, the output of shell ``commands``) as it is
    inside ``host``; the host's own name reads ``HOST``, so two
    hosts' states compare."""
    text = host.run("python3", "-c", PROBE, json.dumps(spec)).stdout
    return json.loads(text.replace(host.name, "HOST"))
