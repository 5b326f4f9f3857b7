"""celeryroot pki: the CA, the controller's and the hosts' identities, and
revocation, seen by a real controller and real workers."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import Workers, controller_env, wait_for, write
from support import Pki, TEST_WORKER


def pki_cli(directory: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "celeryroot.cli.adhoc", "pki", "--dir", str(directory), *args],
                          capture_output=True, text=True, timeout=60)


def play_with(pki: Pki, redis_server, book: Path, inventory: Path) -> subprocess.CompletedProcess:
    """celeryroot-play as the controller of ``pki``."""
    return subprocess.run([sys.executable, "-m", "celeryroot.cli.play", str(book), "-i", str(inventory)],
                          capture_output=True, text=True, cwd=book.parent, timeout=120,
                          env=controller_env(redis_server.url, pki))


def mode(path: Path) -> str:
    return format(path.stat().st_mode & 0o777, "03o")


def test_init_and_host_write_keys_only_their_owner_may_read(tmp_path):
    directory = tmp_path / "pki"
    out = pki_cli(directory, "init")
    assert out.returncode == 0, out.stderr
    assert {p.name for p in directory.iterdir()} == {"ca.key", "ca.crt", "controller.key", "controller.crt"}
    assert mode(directory / "ca.key") == "600" and mode(directory / "controller.key") == "600"
    assert mode(directory / "ca.crt") == "644"
    again = pki_cli(directory, "init")
    assert again.returncode == 1 and "a CA is already here" in again.stderr, again.stderr

    out = pki_cli(directory, "host", "web1", "db1")
    assert out.returncode == 0, out.stderr
    for host in ("web1", "db1"):
        issued = directory / "hosts" / host
        assert {p.name for p in issued.iterdir()} == {"host.key", "host.crt", "ca.crt"}
        assert mode(issued / "host.key") == "600"
    assert pki_cli(directory, "host", "web1").returncode == 1
    bad = pki_cli(directory, "host", "web/1")
    assert bad.returncode == 1 and "bad host name 'web/1'" in bad.stderr, bad.stderr


def test_a_worker_starts_only_with_its_own_identity(tmp_path, redis_server):
    pki = Pki(tmp_path / "pki")

    def start(host: str, directory: Path) -> subprocess.CompletedProcess:
        return subprocess.run([*TEST_WORKER, "--hostname", host, "--broker", redis_server.url, "--pki",
                               str(directory)], capture_output=True, text=True, timeout=30)

    other = start("web2", pki.host("web1"))  # web1's identity, on web2
    assert other.returncode == 1 and "does not name host 'web2'" in other.stderr, other.stderr
    missing = start("web3", tmp_path / "nowhere")
    assert missing.returncode == 1 and "no such certificate" in missing.stderr, missing.stderr
    foreign = Pki(tmp_path / "other-ca")
    mixed = tmp_path / "mixed"
    shutil.copytree(pki.host("web4"), mixed)
    shutil.copy(foreign.directory / "ca.crt", mixed / "ca.crt")  # a CA that did not issue host.crt
    refused = start("web4", mixed)
    assert refused.returncode == 1 and "not issued by the trusted CA" in refused.stderr, refused.stderr


def test_a_revoked_host_is_unreachable_and_the_others_carry_on(tmp_path, redis_server):
    pki = Pki(tmp_path / "pki")
    workers = Workers(redis_server.url, tmp_path, pki=pki)
    try:
        workers.start("kept1", "gone1")
        assert pki_cli(pki.directory, "revoke", "gone1").returncode == 0
        assert not (pki.directory / "hosts" / "gone1").exists()
        inventory = write(tmp_path / "inv.yaml", "all:\n  hosts:\n    kept1:\n    gone1:\n")
        book = write(tmp_path / "p.yaml", f"- hosts: all\n  gather_facts: false\n  tasks:\n"
                                          f"    - file: path={tmp_path}/{{{{ inventory_hostname }}}} state=touch\n")
        out = play_with(pki, redis_server, book, inventory)
        assert out.returncode == 4, out.stdout + out.stderr
        assert "no certificate for host 'gone1'" in out.stdout
        assert (tmp_path / "kept1").exists() and not (tmp_path / "gone1").exists()
    finally:
        workers.stop()


def test_a_revoked_controller_is_refused_by_hosts_with_the_new_list(tmp_path, redis_server):
    pki = Pki(tmp_path / "pki")
    workers = Workers(redis_server.url, tmp_path, pki=pki)
    try:
        pki.host("crl1")
        assert pki_cli(pki.directory, "revoke", "controller").returncode == 0
        shutil.copy(pki.directory / "crl.pem", pki.host("crl1") / "crl.pem")
        workers.start("crl1")
        inventory = write(tmp_path / "inv.yaml", "all:\n  hosts:\n    crl1:\n")
        book = write(tmp_path / "p.yaml", f"- hosts: all\n  gather_facts: false\n  tasks:\n"
                                          f"    - file: path={tmp_path}/ran state=touch\n")
        out = play_with(pki, redis_server, book, inventory)
        # The controller itself sees its certificate revoked (its own crl.pem) and stops first.
        assert out.returncode == 1 and "controller.crt: certificate 'controller' is revoked" in out.stderr, out
        (pki.directory / "crl.pem").unlink()  # a controller that does not know, or pretends not to
        out = play_with(pki, redis_server, book, inventory)
        assert out.returncode == 4, out.stdout + out.stderr
        assert "refused: the sender is not a trusted controller" in out.stdout and "is revoked" in out.stdout
        assert not (tmp_path / "ran").exists()
        wait_for(lambda: "is revoked" in workers.log("crl1"), 5, "the refusal in the worker's log")
    finally:
        workers.stop()


def test_a_controller_key_others_may_read_stops_the_run(tmp_path, redis_server):
    pki = Pki(tmp_path / "pki")
    (pki.directory / "controller.key").chmod(0o640)
    inventory = write(tmp_path / "inv.yaml", "all:\n  hosts:\n    any1:\n")
    book = write(tmp_path / "p.yaml", "- hosts: all\n  tasks:\n    - ping:\n")
    out = play_with(pki, redis_server, book, inventory)
    assert out.returncode == 1
    assert "controller.key: the key is readable by others (mode 0640); chmod 600 it" in out.stderr, out.stderr
