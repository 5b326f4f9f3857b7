"""Confined credentials (`celeryroot acl`): a real redis-server loads the
generated ACL file, real workers log in as their own users, and the
controller as its own. Every command they send is allowed (the server's ACL
LOG stays empty through linear and bundle plays and a broker restart), and a
host's user is refused everything else."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys

import pytest
import redis
from redis.exceptions import NoPermissionError

from conftest import Play, RedisServer, Workers, controller_env, wait_for, write

HOSTS = ("web7", "web77")  # web7 is a prefix of web77: its patterns must not reach web77's keys
#: A user of the test's own, beside the generated ones, to look at the ACL LOG.
ADMIN = "user admin on >admin-secret ~* &* +@all\n"


def celeryroot_acl(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "celeryroot.cli.adhoc", "acl", *args], capture_output=True,
                          text=True, cwd=cwd)


def read_passwords(path) -> dict[str, str]:
    from celeryroot.lang.source import plain
    from celeryroot.lang.yamlread import load_yaml

    return plain(load_yaml(path))


class Confined:
    """A redis-server running the ACL of an inventory of HOSTS, and the users' URLs."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.inventory = write(workdir / "inv.yaml", "all:\n  hosts:\n" + "".join(
            f"    {h}: {{root: {workdir}/{h}}}\n" for h in HOSTS))
        made = celeryroot_acl("-i", str(self.inventory), "--passwords", "pw.yaml", cwd=workdir)
        assert made.returncode == 0, made.stderr
        self.acl = made.stdout
        self.passwords = read_passwords(workdir / "pw.yaml")
        write(workdir / "users.acl", self.acl + ADMIN)
        self.server = self.start()

    def start(self, port: int | None = None) -> RedisServer:
        return RedisServer(self.workdir, ["--aclfile", str(self.workdir / "users.acl")],
                           url_auth="admin:admin-secret@", port=port)

    def restart(self) -> None:
        self.server.stop()
        self.server = self.start(self.server.port)

    def url(self, user: str) -> str:
        return f"redis://{user}:{self.passwords[user]}@127.0.0.1:{self.server.port}/0"

    def refusals(self) -> list[dict]:
        """The ACL LOG since the last look. Redis 7.2+ logs redis-py's CLIENT
        SETINFO at connect, which redis-py does without when refused."""
        log = self.server.client.acl_log()
        self.server.client.acl_log_reset()
        return [e for e in log if e["object"] != "client|setinfo"]


@pytest.fixture(scope="module")
def confined(tmp_path_factory):
    setup = Confined(tmp_path_factory.mktemp("acl"))
    workers = Workers(setup.server.url, setup.workdir)
    try:
        for host in HOSTS:
            workers.start(host, broker_url=setup.url(host))
        setup.workers = workers
        yield setup
    finally:
        workers.stop()
        setup.server.stop()


LINEAR = """
- hosts: all
  gather_facts: smart
  tasks:
    - name: dir
      file: path={{ root }} state=directory
      notify: said
    - name: file
      copy: dest={{ root }}/x content={{ inventory_hostname }}
      register: wrote
    # Longer than a lease's renewal: the run's locks are renewed (a Lua script) meanwhile.
    - name: wait
      command: sleep 2.5
  handlers:
    - name: said
      debug: msg=handled
"""

FREE = """
- hosts: all
  strategy: free
  tasks:
    - name: dir
      file: path={{ root }}/free state=directory
      notify: said
    - name: file
      copy: dest={{ root }}/free/x content={{ inventory_hostname }}
  handlers:
    - name: said
      debug: msg=handled
"""


def run_plays(confined) -> None:
    play = Play(confined.url("controller"), confined.workdir)
    for name, text in (("linear.yaml", LINEAR), ("free.yaml", FREE)):
        out = play(write(confined.workdir / name, text), inventory=confined.inventory)
        assert out.rc == 0, out
        assert out.total("failed") == 0 and out.total("unreachable") == 0, out
    for host in HOSTS:
        assert (confined.workdir / host / "x").read_text() == host
        assert (confined.workdir / host / "free/x").read_text() == host
    assert confined.refusals() == []


def test_plays_run_with_the_users_confined(confined):
    run_plays(confined)


def test_the_workers_need_nothing_more_after_a_broker_restart(confined):
    confined.restart()
    # Each worker reconnects (its heartbeat is back).
    wait_for(lambda: all(confined.workers.alive(h) for h in HOSTS), 30, "the workers' heartbeats")
    run_plays(confined)


OTHER = "celeryroot.host.web77"
REFUSED = {
    "read another host's queue": lambda r: r.lrange(OTHER, 0, -1),
    "take another host's task": lambda r: r.rpop(OTHER),
    "send another host a task": lambda r: r.lpush(OTHER, "{}"),
    "read another host's heartbeat": lambda r: r.get(OTHER + "/heartbeat"),
    "read another host's keys": lambda r: r.hgetall(OTHER + "/unacked"),
    "read another host's binding": lambda r: r.smembers("_kombu.binding." + OTHER),
    "read another host's facts": lambda r: r.get("celeryroot.facts.web77"),
    "delete another host's key": lambda r: r.delete(OTHER + "/heartbeat"),
    "read a reply queue": lambda r: r.lrange("celeryroot.reply.anyrun", 0, -1),
    "read the set of workers": lambda r: r.smembers("celeryroot.workers"),
    "take a name out of the set of workers": lambda r: r.srem("celeryroot.workers", "web77"),
    "take a reply": lambda r: r.brpop("celeryroot.reply.anyrun", 1),
    "delete a reply queue": lambda r: r.delete("celeryroot.reply.anyrun"),
    "write a lease": lambda r: r.set("celeryroot.lease.forged", "x"),
    "delete a lease": lambda r: r.delete("celeryroot.lease.anyrun"),
    "read a lease": lambda r: r.get("celeryroot.lease.anyrun"),
    "take a run lock": lambda r: r.set("celeryroot.lock.web7", "x"),
    "look at another host's run lock": lambda r: r.exists("celeryroot.lock.web77"),
    "read another host's drift schedule": lambda r: r.get(OTHER + "/drift.schedule/site"),
    "pending handlers": lambda r: r.smembers("celeryroot.handlers.web7"),
    "SCAN": lambda r: r.scan(0),
    "KEYS": lambda r: r.keys("*"),
    "RANDOMKEY": lambda r: r.randomkey(),
    "DBSIZE": lambda r: r.dbsize(),
    "SCRIPT FLUSH": lambda r: r.script_flush(),
    "FUNCTION FLUSH": lambda r: r.function_flush(),
    "EVAL": lambda r: r.eval("return 1", 0),
    "FLUSHALL": lambda r: r.flushall(),
    "FLUSHDB": lambda r: r.flushdb(),
    "CONFIG GET": lambda r: r.config_get("*"),
    "SUBSCRIBE": lambda r: r.execute_command("SUBSCRIBE", "celeryroot.host.web77"),
    "PUBLISH": lambda r: r.publish("celeryroot.host.web77", "x"),
    "CLIENT LIST": lambda r: r.client_list(),
    "ACL LIST": lambda r: r.acl_list(),
    "MONITOR": lambda r: r.execute_command("MONITOR"),
    "BGSAVE": lambda r: r.bgsave(),
    "SHUTDOWN": lambda r: r.execute_command("SHUTDOWN", "NOSAVE"),
    "a script on another's key": lambda r: r.register_script("return redis.call('get', KEYS[1])")(keys=[OTHER]),
    # No scripting at all: not even on its own keys (a busy script would stall the server for every host).
    "a script on its own key": lambda r: r.register_script("return 1")(keys=["celeryroot.host.web7/alive"]),
    "take its own task back": lambda r: r.lpush("celeryroot.host.web7", "{}"),
}


@pytest.mark.parametrize("attempt", REFUSED.values(), ids=REFUSED.keys())
def test_a_host_is_refused(confined, attempt):
    web7 = redis.Redis.from_url(confined.url("web7"))
    with pytest.raises(NoPermissionError):
        attempt(web7)


def test_a_host_may_do_what_its_worker_needs(confined):
    confined.refusals()  # the refused tests' entries
    web7 = redis.Redis.from_url(confined.url("web7"))
    assert web7.get("celeryroot.host.web7/heartbeat")
    assert web7.llen("celeryroot.host.web7") == 0
    assert web7.exists("celeryroot.lease.norun") == 0  # a lease may be looked for
    assert web7.lpush("celeryroot.reply.probe", "x") == 1  # a reply sent, and made to lapse
    assert web7.expire("celeryroot.reply.probe", 5)
    confined.server.client.delete("celeryroot.reply.probe")
    assert confined.refusals() == []


def test_celeryroot_hosts_needs_nothing_more_than_the_controllers_user(confined):
    confined.refusals()
    out = subprocess.run([sys.executable, "-m", "celeryroot.cli.adhoc", "hosts", "-i", str(confined.inventory),
                          "--json"], capture_output=True, text=True, cwd=confined.workdir,
                         env=controller_env(confined.url("controller")))
    assert out.returncode == 0, out.stderr
    assert {h["host"]: h["state"] for h in json.loads(out.stdout)["hosts"]} == {h: "up" for h in HOSTS}
    assert confined.refusals() == []


def test_drift_checks_need_nothing_more(confined):
    """A schedule pushed as the controller, checked by each worker as its own
    user and read back as the controller: the ACL refuses none of it."""
    confined.refusals()

    def drift(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "celeryroot.cli.adhoc", "drift", *args, "-i",
                               str(confined.inventory)], capture_output=True, text=True, cwd=confined.workdir,
                              env=controller_env(confined.url("controller")))

    book = write(confined.workdir / "site.yaml", FREE)
    assert drift("push", str(book), "--every", "2s").returncode == 0

    def checked():
        out = drift("--json")
        lines = json.loads(out.stdout)["drift"]
        return len(lines) == len(HOSTS) and all(line["checked"] for line in lines) and lines
    assert {line["state"] for line in wait_for(checked, 30, "a check on every host", every=0.5)} <= \
        {"in sync", "drifted"}
    assert drift("remove", "site").returncode == 0
    assert confined.refusals() == []


def test_the_acl_holds_hashes_and_the_passwords_file_is_private(confined):
    mode = stat.S_IMODE(os.stat(confined.workdir / "pw.yaml").st_mode)
    assert mode == 0o600, oct(mode)
    assert set(confined.passwords) == {"controller", *HOSTS}
    for user, password in confined.passwords.items():
        assert len(password) >= 32
        assert password not in confined.acl
        assert f"user {user} " in confined.acl and "#" + hashlib.sha256(password.encode()).hexdigest() in confined.acl
    assert confined.acl.startswith("user default off\n")


def test_passwords_are_kept_and_completed(tmp_path):
    write(tmp_path / "pw.yaml", 'web1: "given-by-hand"\n').chmod(0o600)
    first = celeryroot_acl("-i", "web1,web2,", "--passwords", "pw.yaml", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    passwords = read_passwords(tmp_path / "pw.yaml")
    assert passwords["web1"] == "given-by-hand" and set(passwords) == {"web1", "web2", "controller"}
    assert stat.S_IMODE(os.stat(tmp_path / "pw.yaml").st_mode) == 0o600
    again = celeryroot_acl("-i", "web1,web2,", "--passwords", "pw.yaml", cwd=tmp_path)
    assert again.stdout == first.stdout and read_passwords(tmp_path / "pw.yaml") == passwords


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_passwords_file_open_to_others_is_refused(tmp_path, mode):
    write(tmp_path / "pw.yaml", 'web1: "x"\n').chmod(mode)
    out = celeryroot_acl("-i", "web1,", "--passwords", "pw.yaml", cwd=tmp_path)
    assert out.returncode == 1 and out.stdout == "", out
    assert out.stderr == f"ERROR! pw.yaml: the passwords file is open to others than its owner (mode {mode:04o}); " \
                         "make it private: chmod 600 pw.yaml\n"


@pytest.mark.parametrize("name", ["controller", "default"])
def test_a_host_may_not_take_a_users_name(tmp_path, name):
    out = celeryroot_acl("-i", f"{name},", "--passwords", "pw.yaml", cwd=tmp_path)
    assert out.returncode == 1 and "has the name of a Redis user the ACL defines itself" in out.stderr, out
    assert not (tmp_path / "pw.yaml").exists()


def test_the_commands_format_sets_the_same_users_with_redis_cli(tmp_path):
    server = RedisServer(tmp_path)
    try:
        out = celeryroot_acl("-i", "web7,", "--passwords", "pw.yaml", "--format", "commands", cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("ACL SETUSER default off\n")
        loaded = subprocess.run(["redis-cli", "-p", str(server.port)], input=out.stdout, capture_output=True,
                                text=True)
        assert loaded.stdout.split() == ["OK"] * 3, loaded
        passwords = read_passwords(tmp_path / "pw.yaml")
        web7 = redis.Redis(port=server.port, username="web7", password=passwords["web7"])
        assert web7.lpush("celeryroot.reply.probe", "x") == 1
        with pytest.raises(NoPermissionError):
            web7.delete("celeryroot.reply.probe")
    finally:
        server.stop()
