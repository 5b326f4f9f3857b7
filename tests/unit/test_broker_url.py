"""A rediss:// broker URL checks the broker's certificate and name: what
check_broker_url makes of each, and what it refuses without --insecure."""

from __future__ import annotations

import pytest

from celeryroot.config import check_broker_url
from celeryroot.lang.source import InputError

BASE = "rediss://web1:pw@redis.example.net:6380/0"
CA = "ssl_ca_certs=/etc/celeryroot/ca.crt"


@pytest.mark.parametrize("given, used", [
    (BASE, BASE + "?ssl_cert_reqs=required"),  # kombu alone would check nothing
    (f"{BASE}?{CA}", f"{BASE}?{CA}&ssl_cert_reqs=required"),
    (f"{BASE}?ssl_cert_reqs=CERT_REQUIRED&{CA}", f"{BASE}?{CA}&ssl_cert_reqs=required"),  # redis-py's word
    (f"{BASE}?{CA}&ssl_check_hostname=True", f"{BASE}?{CA}&ssl_cert_reqs=required&ssl_check_hostname=true"),
    ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
])
def test_what_a_url_means(given, used):
    assert check_broker_url(given, "--broker") == used


@pytest.mark.parametrize("query, unchecked", [
    ("ssl_cert_reqs=none", "ssl_cert_reqs=none"),
    ("ssl_cert_reqs=CERT_OPTIONAL", "ssl_cert_reqs=optional"),
    ("ssl_check_hostname=0", "ssl_check_hostname=false"),  # redis-py's false, which kombu reads as true
    ("ssl_cert_reqs=none&ssl_check_hostname=false", "ssl_cert_reqs=none, ssl_check_hostname=false"),
])
def test_unchecked_tls_needs_insecure(query, unchecked, capsys):
    with pytest.raises(InputError) as refused:
        check_broker_url(f"{BASE}?{query}", "CELERYROOT_BROKER_URL")
    assert f"turns off the broker's TLS checks ({unchecked})" in str(refused.value)
    assert "web1:****@" in str(refused.value) and "--insecure" in str(refused.value)
    assert "(from CELERYROOT_BROKER_URL)" in str(refused.value)
    check_broker_url(f"{BASE}?{query}", "--broker", insecure=True)
    assert capsys.readouterr().err == f"[WARNING]: --insecure: the broker's TLS certificate is not checked " \
                                      f"({unchecked}); anyone on the way can read and change every task\n"


def test_an_unknown_cert_reqs_is_refused():
    with pytest.raises(InputError, match="ssl_cert_reqs=sometimes is none of required, optional or none"):
        check_broker_url(f"{BASE}?ssl_cert_reqs=sometimes", "--broker")
