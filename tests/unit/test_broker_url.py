"""A rediss:// broker URL checks the broker's certificate and name: what
check_broker_url makes of each, and what it refuses without --insecure.
A sentinel:// one is written out whole for kombu and redis-py alike."""

from __future__ import annotations

import pytest

from celeryroot.config import celery_settings, check_broker_url, load_config, masked, sentinels
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


# -- sentinel://: the Sentinels that watch a primary, written out whole

SENTINELS = "sentinel://:pw@s1:26379;sentinel://s2:26380;sentinel://s3"
WHOLE = "sentinel://:pw@s1:26379/0;sentinel://:pw@s2:26380/0;sentinel://:pw@s3:26379/0"


@pytest.mark.parametrize("given, from_file, used", [
    # Every Sentinel gets the primary's login and database: kombu takes
    # them from whichever Sentinel's URL it switched to.
    (f"{SENTINELS}/0?master_name=main", {}, f"{WHOLE}?master_name=main"),
    (SENTINELS, {"master_name": "main", "sentinel_password": "spw"},
     f"{WHOLE}?master_name=main&sentinel_password=spw"),
    (f"{SENTINELS}?master_name=other", {"master_name": "main"}, f"{WHOLE}?master_name=other"),  # the URL wins
    ("sentinel://u:p%40ss@[::1]/2?master_name=m", {}, "sentinel://u:p%40ss@[::1]:26379/2?master_name=m"),
])
def test_what_a_sentinel_url_means(given, from_file, used):
    assert check_broker_url(given, "--broker", sentinel=from_file) == used


def test_kombu_and_redis_py_read_the_same_sentinels():
    found = sentinels(f"{WHOLE}?master_name=main&sentinel_password=spw")
    assert found.addresses == (("s1", 26379), ("s2", 26380), ("s3", 26379))
    assert (found.master_name, found.password, found.db) == ("main", "pw", 0)
    assert found.sentinel_kwargs(3)["password"] == "spw"
    settings = celery_settings(found.url)
    assert settings["broker_url"] == WHOLE  # kombu fails on a query word it does not know
    assert settings["broker_transport_options"]["master_name"] == "main"
    assert settings["broker_transport_options"]["sentinel_kwargs"]["password"] == "spw"
    assert sentinels("redis://127.0.0.1:6379/0") is None


@pytest.mark.parametrize("url, why", [
    (SENTINELS, "names no primary: give ?master_name=NAME"),
    ("sentinel://s1;redis://s2?master_name=m", "'redis://s2?master_name=m' is not a sentinel:// URL"),
    ("sentinel://s1?master_name=m&priority=1", "'priority' is none of master_name, sentinel_password"),
    ("sentinel://s1?master_name=m&ssl_ca_certs=/ca.crt", "TLS through Sentinel is not supported yet"),
    ("sentinel://s1/zero?master_name=m", "the database 'zero' is not a number"),
])
def test_a_sentinel_url_celeryroot_cannot_use_is_refused(url, why):
    with pytest.raises(InputError) as refused:
        check_broker_url(url, "CELERYROOT_BROKER_URL")
    assert why in str(refused.value) and "(from CELERYROOT_BROKER_URL)" in str(refused.value)
    assert ":pw@" not in str(refused.value)


def test_every_password_of_a_sentinel_url_is_masked():
    assert masked(f"{WHOLE}?master_name=main&sentinel_password=spw") == \
        "sentinel://:****@s1:26379/0;sentinel://:****@s2:26380/0;sentinel://:****@s3:26379/0" \
        "?master_name=main&sentinel_password=****"


def test_the_configuration_file_names_the_primary(tmp_path, monkeypatch):
    monkeypatch.delenv("CELERYROOT_BROKER_URL", raising=False)
    path = tmp_path / "celeryroot.yaml"
    path.write_text("broker_url: sentinel://s1;sentinel://s2\nmaster_name: main\nsentinel_password: spw\n")
    assert load_config(path=str(path)).broker_url == \
        "sentinel://s1:26379/0;sentinel://s2:26379/0?master_name=main&sentinel_password=spw"
    assert load_config("sentinel://s3", str(path)).broker_url == \
        "sentinel://s3:26379/0?master_name=main&sentinel_password=spw"  # --broker, with the file's words
    path.write_text("broker_url: sentinel://s1\nmaster_name: [main]\n")
    with pytest.raises(InputError, match="celeryroot.yaml:2:14: master_name must be a string"):
        load_config(path=str(path))


def test_a_primary_no_sentinel_names_is_one_line():
    from redis.sentinel import MasterNotFoundError

    from celeryroot.broker import reason

    long = "No master found for 'main' : <redis.client.Redis(<ConnectionPool(...)>)> - ConnectionError('refused')"
    assert reason(MasterNotFoundError(long)) == "No master found for 'main'; not every Sentinel answered"
    assert reason(MasterNotFoundError("No master found for 'main'")) == "No master found for 'main'"
