"""TLS to the broker: a real redis-server speaking only TLS (mutual: clients
show a certificate too), with a CA and certificates made here, a real
worker and celeryroot-play. The broker's certificate and name are checked
unless --insecure says otherwise; a refused handshake is one clear line."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from certs import Authority
from conftest import Play, RedisServer, Workers, wait_for, write

BOOK = "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: dir\n      file: path={{ root }} state=directory\n"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    ca = Authority(directory)
    return SimpleNamespace(ca=ca.path, server=ca.issue("server", dns="localhost"), client=ca.issue("client"),
                           other_ca=Authority(directory, "other-ca").path, directory=directory)


def query(pki, ca=None, reqs: str | None = "required") -> str:
    """A rediss:// URL's query: the CA to trust, the client's certificate, ``ssl_cert_reqs``."""
    text = f"ssl_ca_certs={ca or pki.ca}&ssl_certfile={pki.client.cert}&ssl_keyfile={pki.client.key}"
    return text + (f"&ssl_cert_reqs={reqs}" if reqs else "")


@pytest.fixture(scope="module")
def tls_server(pki, tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("tls-redis"),
                         ["--tls-cert-file", str(pki.server.cert), "--tls-key-file", str(pki.server.key),
                          "--tls-ca-cert-file", str(pki.ca)], tls=query(pki))
    yield server
    server.stop()


def url(server, pki, host: str = "localhost", **kwargs) -> str:
    return f"rediss://{host}:{server.port}/0?{query(pki, **kwargs)}"


@pytest.fixture
def tls_workers(tls_server, tmp_path):
    workers = Workers(tls_server.url, tmp_path)
    yield workers
    workers.stop()


def inventory(tmp_path, host: str):
    return write(tmp_path / "inv.yaml", f"all:\n  hosts:\n    {host}: {{root: {tmp_path}/{host}}}\n")


def test_a_play_runs_over_tls_with_the_names_checked(tls_server, pki, tls_workers, tmp_path):
    # Without ssl_cert_reqs, a rediss:// URL checks the certificate all the same.
    tls_workers.start("tls1", broker_url=url(tls_server, pki, reqs=None))
    assert "ready: host tls1, broker rediss://localhost:" in tls_workers.log("tls1")
    out = Play(url(tls_server, pki), tmp_path)(write(tmp_path / "p.yaml", BOOK), inventory=inventory(tmp_path, "tls1"))
    assert out.rc == 0 and out.total("changed") == 1, out
    assert (tmp_path / "tls1").is_dir()


def one_line_error(out, *needles: str) -> None:
    assert out.rc == 1 and out.stdout == "", out
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("ERROR! "), out.stderr
    for needle in needles:
        assert needle in out.stderr, out.stderr


@pytest.mark.parametrize("reqs", ["required", None])
def test_the_controller_refuses_a_broker_its_ca_did_not_sign(tls_server, pki, tmp_path, reqs):
    out = Play(url(tls_server, pki, ca=pki.other_ca, reqs=reqs), tmp_path)(
        write(tmp_path / "p.yaml", BOOK), inventory=inventory(tmp_path, "tls1"), json_out=False)
    one_line_error(out, "ERROR! cannot reach the broker: rediss://localhost:",
                   "TLS: the broker's certificate is not accepted: self-signed certificate in certificate chain")
    # One line, so no "retrying for 5 s" before it: a refused certificate is
    # no reason to wait for the broker (said by the output, not a clock).


def test_the_controller_refuses_a_name_the_certificate_does_not_hold(tls_server, pki, tmp_path):
    # The certificate is for localhost; 127.0.0.1 is the same server, by a name it does not hold.
    out = Play(url(tls_server, pki, host="127.0.0.1"), tmp_path)(
        write(tmp_path / "p.yaml", BOOK), inventory=inventory(tmp_path, "tls1"), json_out=False)
    one_line_error(out, "TLS: the broker's certificate is not accepted: IP address mismatch, certificate is not "
                        "valid for '127.0.0.1'")


def test_the_worker_says_why_and_keeps_retrying(tls_server, pki, tls_workers, tmp_path):
    trusted = tmp_path / "trusted-ca.crt"
    shutil.copy(pki.other_ca, trusted)
    tls_workers.start("tls2", broker_url=url(tls_server, pki, ca=trusted), wait=False)
    said = "(TLS: the broker's certificate is not accepted: self-signed certificate in certificate chain); " \
           "retrying until it answers"
    wait_for(lambda: said in tls_workers.log("tls2"), 20, "the worker's log line")
    time.sleep(2)  # retrying, once a second
    assert tls_workers.procs["tls2"].poll() is None and tls_workers.log("tls2").count("cannot reach") == 1
    assert "Traceback" not in tls_workers.log("tls2")
    shutil.copy(pki.ca, trusted)  # the operator puts the right CA in place: the worker comes up
    wait_for(lambda: tls_workers.alive("tls2"), 20, "the worker's heartbeat")


def command(module: str, *args: str, broker: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args, "--broker", broker], capture_output=True, text=True,
                          cwd=cwd, timeout=60)


@pytest.mark.parametrize("reqs", ["none", "optional", "CERT_NONE"])
def test_unchecked_tls_is_refused_without_insecure(tls_server, pki, tmp_path, reqs):
    broker = url(tls_server, pki, reqs=reqs)
    book = write(tmp_path / "p.yaml", BOOK)
    runs = {"celeryroot-play": command("celeryroot.cli.play", str(book), "-i", "tls3,", broker=broker, cwd=tmp_path),
            "celeryroot": command("celeryroot.cli.adhoc", "all", "-m", "ping", "-i", "tls3,", broker=broker,
                                  cwd=tmp_path),
            "celeryroot-worker": command("celeryroot.cli.worker", "--hostname", "tls3", broker=broker, cwd=tmp_path)}
    canonical = {"CERT_NONE": "none"}.get(reqs, reqs)
    for name, run in runs.items():
        assert run.returncode == 1 and run.stderr.count("\n") == 1, (name, run)
        assert f"turns off the broker's TLS checks (ssl_cert_reqs={canonical})" in run.stderr, (name, run.stderr)
        assert "--insecure" in run.stderr and "Traceback" not in run.stderr, (name, run.stderr)


def test_a_name_check_turned_off_is_refused_too(tls_server, pki, tmp_path):
    run = command("celeryroot.cli.adhoc", "all", "-m", "ping", "-i", "tls3,",
                  broker=url(tls_server, pki) + "&ssl_check_hostname=false", cwd=tmp_path)
    assert run.returncode == 1 and "(ssl_check_hostname=false)" in run.stderr, run


def test_insecure_connects_and_warns_once(tls_server, pki, tls_workers, tmp_path):
    # The CA given is not the broker's: with checks off, that goes unnoticed.
    broker = url(tls_server, pki, ca=pki.other_ca, reqs="none")
    tls_workers.command.append("--insecure")
    tls_workers.start("tls4", broker_url=broker)
    warning = "[WARNING]: --insecure: the broker's TLS certificate is not checked (ssl_cert_reqs=none)"
    assert tls_workers.log("tls4").count(warning) == 1
    out = Play(broker, tmp_path)(write(tmp_path / "p.yaml", BOOK), "--insecure", inventory=inventory(tmp_path, "tls4"))
    assert out.rc == 0 and out.total("changed") == 1, out
    assert out.stderr.count(warning) == 1, out.stderr
