"""cron against the real crontab command and /etc/cron.d, three runs a step.

The jobs belong to a user of the test's own and to a file of /etc/cron.d
named for the tests; both are gone afterwards. The jobs are ``true`` at
midnight on the first of January, harmless if cron runs them. The steps
run in order, each one's final state the next one's initial state.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import bad_argument_fails
from systable import SysCase, run_three

USER = "crtest-cron"
CRON_FILE = "/etc/cron.d/crtest-cron"
#: A crontab as ansible-core's cron module leaves it (its marker lines).
BY_ANSIBLE = "MAILTO=ops\n#Ansible: kept\n0 0 1 1 * true kept\n#Ansible: old\n5 4 * * * true old\n"


def crontab() -> str | None:
    done = subprocess.run(["crontab", "-u", USER, "-l"], capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


def cron_file() -> str | None:
    try:
        with open(CRON_FILE) as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def observe() -> dict:
    return {"crontab": crontab(), "cron_file": cron_file()}


@pytest.fixture(scope="module")
def cron_user():
    if shutil.which("crontab") is None:
        # The cron package is in the Makefile's TEST_PACKAGES.
        subprocess.run(["apt-get", "install", "-y", "-q", "cron"], check=True, capture_output=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    subprocess.run(["useradd", "--no-create-home", USER], check=True, capture_output=True)
    yield USER
    subprocess.run(["crontab", "-u", USER, "-r"], capture_output=True)
    subprocess.run(["userdel", USER], capture_output=True)
    if os.path.exists(CRON_FILE):
        os.unlink(CRON_FILE)


def cron(**args) -> str:
    return "cron:\n" + "\n".join(f"  {key}: {value!r}" for key, value in args.items())


JOB = {"name": "crtest", "minute": "0", "hour": "0", "day": "1", "month": "1", "job": "true crtest", "user": USER}

STEPS = [
    SysCase("add", cron(**JOB), then={"crontab": "#Ansible: crtest\n0 0 1 1 * true crtest\n"},
            diff="+#Ansible: crtest\n+0 0 1 1 * true crtest"),
    SysCase("change-time", cron(**{**JOB, "minute": "30"}),
            then={"crontab": "#Ansible: crtest\n30 0 1 1 * true crtest\n"}, diff="-0 0 1 1 * true crtest"),
    SysCase("disable", cron(**{**JOB, "minute": "30", "disabled": True}),
            then={"crontab": "#Ansible: crtest\n#30 0 1 1 * true crtest\n"}),
    SysCase("special-time", cron(name="crtest", special_time="yearly", job="true crtest", user=USER),
            then={"crontab": "#Ansible: crtest\n@yearly true crtest\n"}),
    SysCase("second-job", cron(name="other", special_time="reboot", job="true other", user=USER),
            then={"crontab": "#Ansible: crtest\n@yearly true crtest\n#Ansible: other\n@reboot true other\n"}),
    SysCase("remove", cron(name="crtest", state="absent", user=USER),
            then={"crontab": "#Ansible: other\n@reboot true other\n"}),
    SysCase("remove-missing", cron(name="crtest", state="absent", user=USER), changed=False),
    SysCase("cron-file", cron(**{**JOB, "cron_file": "crtest-cron", "user": "root"}),
            then={"cron_file": "#Ansible: crtest\n0 0 1 1 * root true crtest\n"},
            diff="+0 0 1 1 * root true crtest"),
    SysCase("cron-file-remove", cron(name="crtest", cron_file="crtest-cron", state="absent"),
            then={"cron_file": None}),
    SysCase("missing-user", cron(name="x", job="true", user="crtest-nobody"), fails="does not exist"),
    SysCase("missing-directory", cron(**{**JOB, "cron_file": "/nonexistent-crtest/jobs", "user": "root"}),
            fails="does not exist"),
]


def test_steps(fleet, play, cron_user, tmp_path):
    for step in STEPS:
        run_three(play, tmp_path, step, observe)


def test_a_crontab_ansible_wrote_stays_ok(fleet, play, cron_user, tmp_path):
    """Same marker lines as ansible-core's cron: its jobs are found, left
    as they are, and changed in place."""
    subprocess.run(["crontab", "-u", USER, "-"], input=BY_ANSIBLE, text=True, check=True)
    kept = SysCase("kept", cron(name="kept", minute="0", hour="0", day="1", month="1", job="true kept", user=USER),
                   changed=False, then={"crontab": BY_ANSIBLE})
    run_three(play, tmp_path, kept, observe)
    old = SysCase("old", cron(name="old", minute="5", hour="5", job="true old", user=USER),
                  then={"crontab": BY_ANSIBLE.replace("5 4 * * *", "5 5 * * *")})
    run_three(play, tmp_path, old, observe)
    bare = "0 0 1 1 * true bare\n"
    subprocess.run(["crontab", "-u", USER, "-"], input=bare, text=True, check=True)
    adopt = SysCase("adopt", cron(name="bare", minute="0", hour="0", day="1", month="1", job="true bare", user=USER),
                    then={"crontab": "#Ansible: bare\n" + bare})
    results = run_three(play, tmp_path, adopt, observe)
    assert results["apply"]["jobs"] == ["bare"]


@pytest.mark.parametrize("args,name,needle", [
    ({"name": "x"}, "job", "required with state=present"),
    ({"name": "x", "job": "true", "special_time": "daily", "minute": "5"}, "special_time", "mutually exclusive"),
    ({"name": "x", "job": "true", "cron_file": "x"}, "user", "give user= as well"),
    ({"name": "x", "job": "true", "special_time": "sometimes"}, "special_time", "must be one of"),
    ({"job": "true"}, "name", "missing required"),
], ids=["job", "special-and-fields", "cron-file-user", "special-word", "name"])
def test_bad_arguments_fail_on_the_controller(play, tmp_path, args, name, needle):
    bad_argument_fails(play, tmp_path, "cron", args, name, needle)


def test_check_mode_predicts_the_job_of_a_user_an_earlier_task_creates(fleet, play, tmp_path, fleet_inventory):
    book = tmp_path / "new-user.yaml"
    book.write_text(f"""
- hosts: web1
  gather_facts: false
  tasks:
    - name: user
      user: name=crtest-cron-new create_home=no
    - name: job
      cron: name=crtest minute=0 hour=0 day=1 month=1 job=true user=crtest-cron-new
""")
    out = play(book, "--check", inventory=fleet_inventory)
    assert out.rc == 0, out
    assert out.results("job")["web1"]["changed"], out.results("job")
    assert subprocess.run(["id", "crtest-cron-new"], capture_output=True).returncode != 0
