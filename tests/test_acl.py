"""Per-host Redis ACLs (contrib/redis/acl.sh): every host's worker works with
its own user, and no host can read another host's tasks or any results."""

from __future__ import annotations

import subprocess

import pytest
import redis

from conftest import ROOT, RedisServer, Workers, write


@pytest.fixture
def acl_redis(tmp_path):
    acl = subprocess.run([str(ROOT / "contrib/redis/acl.sh"), "ctl-secret", "web7:w7-secret", "web77:w77-secret"],
                         capture_output=True, text=True, check=True).stdout
    write(tmp_path / "users.acl", acl)
    server = RedisServer(tmp_path, ["--aclfile", str(tmp_path / "users.acl")],
                         url_auth="controller:ctl-secret@")
    yield server
    server.stop()


def test_each_host_reaches_only_its_own_keys(acl_redis, tmp_path, play):
    host_url = f"redis://web7:w7-secret@127.0.0.1:{acl_redis.port}/0"
    other_url = f"redis://web77:w77-secret@127.0.0.1:{acl_redis.port}/0"
    workers = Workers(acl_redis.url, tmp_path)
    try:
        workers.start("web7", broker_url=host_url)
        workers.start("web77", broker_url=other_url)
        inventory = write(tmp_path / "inv.yaml", f"all:\n  hosts:\n    web7: {{root: {tmp_path}/web7}}\n"
                                                 f"    web77: {{root: {tmp_path}/web77}}\n")
        book = write(tmp_path / "p.yaml", "- hosts: all\n  tasks:\n    - name: dir\n"
                                          "      file: path={{ root }} state=directory\n")
        play.broker_url = acl_redis.url
        out = play(book, inventory=inventory)
        assert out.rc == 0, out
        assert (tmp_path / "web7").is_dir() and (tmp_path / "web77").is_dir()
        # web7 may not read web77's queue, heartbeat or bookkeeping (a name it
        # is a prefix of), nor any reply queue, nor list keys.
        web7 = redis.Redis.from_url(host_url)
        assert web7.exists("celeryroot.host.web7/alive") == 1
        for attempt in (lambda: web7.lrange("celeryroot.host.web77", 0, -1),
                        lambda: web7.get("celeryroot.host.web77/alive"),
                        lambda: web7.hgetall("celeryroot.host.web77/unacked"),
                        lambda: web7.lrange("celeryroot.reply.anything", 0, -1),
                        lambda: web7.get("celeryroot.host.facts.web77"),
                        lambda: web7.keys("*")):
            with pytest.raises(redis.exceptions.NoPermissionError):
                attempt()
        web7.lpush("celeryroot.reply.probe", "x")  # replies are write-only
        assert web7.exists("celeryroot.lease.norun") == 0  # leases are read-only
        with pytest.raises(redis.exceptions.NoPermissionError):
            web7.set("celeryroot.lease.forged", "x")
    finally:
        workers.stop()
