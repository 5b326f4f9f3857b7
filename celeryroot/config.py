"""Where the broker is, and the Celery settings every celeryroot app shares.

The broker URL comes from ``--broker``, else ``CELERYROOT_BROKER_URL``, else
``broker_url`` in ``./celeryroot.yaml``, else in
``/etc/celeryroot/celeryroot.yaml``. Redis user names and passwords are
passed to Celery untouched; a ``rediss://`` URL checks the broker's
certificate and name (see `check_tls`); a ``sentinel://`` one names the
Sentinels that watch a primary and its replicas (see `check_sentinel`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from .lang.source import InputError, Where, expect_mapping, plain, value_where, warn, where

CONFIG_FILES = (Path("celeryroot.yaml"), Path("/etc/celeryroot/celeryroot.yaml"))
EMBEDDED_BROKER = "memory://"
#: The name of the one broker of a plain ``broker_url``.
SOLE_BROKER = "broker"
#: The kombu transports celeryroot speaks: heartbeats and facts are Redis keys.
BROKER_SCHEMES = ("redis", "rediss", "sentinel", "memory")

#: Every Redis key a worker touches is its queue ``celeryroot.host.NAME`` or
#: starts with ``celeryroot.host.NAME/``: two ACL patterns confine it, and
#: since no host name holds a "/", no host's pattern covers another's keys.
HOST_PREFIX = "celeryroot.host."
REPLY_PREFIX = "celeryroot.reply."

#: Seconds a heartbeat counts as live; a worker beats three times as often.
HEARTBEAT_TTL = 6.0

#: A run is a lease: its controller keeps ``celeryroot.lease.RUN`` alive
#: (refreshed three times per TTL, deleted on exit) and a worker starts
#: none of the run's tasks once it is gone. After a controller is killed
#: outright the lease outlives it by at most ``LEASE_TTL`` seconds.
LEASE_PREFIX = "celeryroot.lease."
LEASE_TTL = 6.0

#: Seconds a reply queue outlives its last reply: a run that ended without
#: reading it (killed, or a reply after it gave up) leaves nothing behind.
REPLY_TTL = 600

#: Seconds a worker's BRPOP waits for a message before it is sent again.
WORKER_BRPOP_TIMEOUT = 0.5


@dataclass(frozen=True)
class Config:
    broker_url: str | None = None
    modules_path: tuple[str, ...] = ()
    source: str = "default"
    options: dict = field(default_factory=dict)
    #: ``brokers:`` of celeryroot.yaml, name -> URL (each checked), for a
    #: fleet more than one Redis serves (controller/brokers.py).
    brokers: dict = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        return self.broker_url is None and not self.brokers

    @property
    def fleet(self) -> dict[str, str]:
        """Every broker of a run by name; a single ``broker_url`` is a fleet of one."""
        return self.brokers or ({SOLE_BROKER: self.broker_url} if self.broker_url else {})


def load_config(broker: str | None = None, path: str | None = None, insecure: bool = False) -> Config:
    """Resolve the configuration in the documented order of precedence.
    ``insecure`` (``--insecure``) lets a ``rediss://`` URL skip the broker's
    certificate checks, with a warning."""
    files = [Path(path)] if path else [p for p in CONFIG_FILES if p.exists()]
    node: dict = {}
    options: dict = {}
    source = "default"
    if files:
        from .lang.yamlread import load_yaml  # ruamel: only where a file is read (a worker mostly has none)

        node = load_yaml(files[0])
        options = plain(expect_mapping(node, where(node), "configuration file"))
        source = str(files[0])
    env_modules = os.environ.get("CELERYROOT_MODULES_PATH")
    modules = env_modules.split(":") if env_modules else options.get("modules_path", [])
    if isinstance(modules, str):
        modules = [modules]
    given = sentinel_given(node, options, source)
    if broker:
        url = check_broker_url(broker, "--broker", insecure=insecure, sentinel=given)
        return Config(url, tuple(modules), "--broker", options)
    if os.environ.get("CELERYROOT_BROKER_URL"):
        url = check_broker_url(os.environ["CELERYROOT_BROKER_URL"], "CELERYROOT_BROKER_URL", insecure=insecure,
                               sentinel=given)
        return Config(url, tuple(modules), "CELERYROOT_BROKER_URL", options)
    url = options.get("broker_url")
    if "brokers" in options:
        return Config(None, tuple(modules), source, options, load_brokers(node, source, url, insecure, given))
    if url is None:
        return Config(None, tuple(modules), "default", options)
    at = value_where(node, "broker_url")
    if not isinstance(url, str):
        raise InputError(at, "broker_url must be a string")
    return Config(check_broker_url(url, source, at, insecure, given), tuple(modules), source, options)


def load_brokers(node, source: str, url, insecure: bool, sentinel: dict | None = None) -> dict[str, str]:
    """``brokers:`` (name -> URL) of a configuration file, each URL checked
    (a ``sentinel://`` one with ``sentinel`` from the file)."""
    at = value_where(node, "brokers")
    if url is not None:
        raise InputError(at, "give broker_url or brokers, not both")
    brokers = node["brokers"]
    if not isinstance(brokers, dict) or not brokers:
        raise InputError(at, "brokers must map names to broker URLs (brokers: {eu1: redis://a:6379/0})")
    out = {}
    for name, value in brokers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise InputError(value_where(brokers, name), f"brokers: {name!r} must be a name with a URL string")
        out[name] = check_broker_url(value, source, value_where(brokers, name), insecure, sentinel)
    return out


def check_broker_url(url: str, source: str, at: Where | None = None, insecure: bool = False,
                     sentinel: dict | None = None) -> str:
    """``url`` as celeryroot uses it (a ``rediss://`` one as `check_tls`
    makes it, a ``sentinel://`` one as `check_sentinel`, with ``sentinel``
    from the configuration file); else an `InputError` naming where it came
    from. Without this, kombu and redis-py fail deep inside with a
    traceback (a URL without a scheme reads as a transport named
    "127.0.0.1")."""
    scheme, sep, _ = url.partition("://")
    expected = ", ".join(s + "://" for s in BROKER_SCHEMES[:-1]) + f" or {BROKER_SCHEMES[-1]}://"
    if not sep or not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme):
        problem = "has no scheme"
    elif scheme not in BROKER_SCHEMES:
        problem = f"has the unsupported scheme '{scheme}://'"
    elif scheme == "rediss":
        return check_tls(url, source, at, insecure)
    elif scheme == "sentinel":
        return check_sentinel(url, source, at, sentinel or {})
    else:
        return url
    raise InputError(at, f"broker URL '{masked(url)}' {problem}; expected {expected} (from {source})")


#: ``ssl_cert_reqs`` as kombu reads it (either spelling), by the word redis-py reads too.
CERT_REQS = {"required": "required", "cert_required": "required", "optional": "optional",
             "cert_optional": "optional", "none": "none", "cert_none": "none"}
#: redis-py's false words for ``ssl_check_hostname`` (kombu knows only "false").
FALSE_WORDS = ("0", "f", "false", "n", "no")


def check_tls(url: str, source: str, at: Where | None, insecure: bool) -> str:
    """A ``rediss://`` URL that checks the broker's certificate and host name.

    Without ``ssl_cert_reqs`` kombu would check nothing (it only logs a
    warning), and Celery's Redis result backend refuses the URL: here it
    means ``required``, written into the URL, where kombu and the plain
    client (messages.redis_client) both read it. ``none`` and ``optional``, or
    ``ssl_check_hostname=false``, let anyone between here and the broker read
    and change every task: refused, unless ``insecure``, said once."""
    base, _, query = url.partition("?")
    pairs = [pair.partition("=") for pair in query.split("&")] if query else []
    values = {name: unquote(value) for name, _, value in pairs}
    given = values.get("ssl_cert_reqs", "required")
    reqs = CERT_REQS.get(given.lower())
    if reqs is None:
        raise InputError(at, f"broker URL '{masked(url)}': ssl_cert_reqs={given} is none of required, optional "
                             f"or none (from {source})")
    checks_name = values.get("ssl_check_hostname", "true").lower() not in FALSE_WORDS
    unchecked = ([f"ssl_cert_reqs={reqs}"] if reqs != "required" else []) + \
        ([] if checks_name else ["ssl_check_hostname=false"])
    if unchecked and not insecure:
        raise InputError(at, f"broker URL '{masked(url)}' turns off the broker's TLS checks "
                             f"({', '.join(unchecked)}), so anyone on the way could read and change every "
                             f"task; give the CA that signed its certificate (ssl_ca_certs=FILE) and "
                             f"ssl_cert_reqs=required, or --insecure to connect anyway (from {source})")
    if unchecked:
        warn(None, f"--insecure: the broker's TLS certificate is not checked ({', '.join(unchecked)}); "
                   f"anyone on the way can read and change every task")
    # One spelling of each, which kombu and redis-py read alike.
    fixed = {"ssl_cert_reqs": reqs}
    if "ssl_check_hostname" in values:
        fixed["ssl_check_hostname"] = "true" if checks_name else "false"
    kept = [f"{name}={value}" for name, _, value in pairs if name not in fixed]
    return base + "?" + "&".join(kept + [f"{name}={value}" for name, value in fixed.items()])


#: What a ``sentinel://`` URL's query may say, and the configuration file's
#: keys of the same names: kombu's transport option ``master_name`` and its
#: ``sentinel_kwargs={"password": …}``.
SENTINEL_WORDS = ("master_name", "sentinel_password")
SENTINEL_PORT = 26379


@dataclass(frozen=True)
class Sentinels:
    """A ``sentinel://`` broker URL taken apart: the Sentinels to ask where
    the primary is, the name they know it by, and the logins (the primary's
    from the URL's user part, the Sentinels' own password beside it)."""

    addresses: tuple[tuple[str, int], ...]
    master_name: str
    sentinel_password: str | None = None
    username: str | None = None
    password: str | None = None
    db: int = 0

    @property
    def kombu_url(self) -> str:
        """The URL as kombu reads it: no query (kombu fails on a word it does
        not know), and every Sentinel with the login and database, because
        after a failed connect kombu switches to the next one's URL and
        takes those from it."""
        login = quote(self.username or "", safe="") + (":" + quote(self.password, safe="") if self.password else "")
        login += "@" if login else ""
        return ";".join(f"sentinel://{login}{_netloc(host, port)}/{self.db}" for host, port in self.addresses)

    @property
    def url(self) -> str:
        """The URL as celeryroot passes it on: kombu's, with the query back."""
        words = {"master_name": self.master_name, "sentinel_password": self.sentinel_password}
        return self.kombu_url + "?" + urlencode({k: v for k, v in words.items() if v is not None})

    def sentinel_kwargs(self, timeout: float) -> dict:
        """How a client talks to the Sentinels. Given at all, these replace
        redis-py's socket options for them, so the timeout is given too:
        a Sentinel behind a firewall that drops packets would hold a
        connect for minutes. Each is asked once per look (``retry`` None):
        redis-py's ten retries of every Sentinel made one look seconds
        long, and the controller's wait for the broker three times longer
        than it said; the waiting is done by whoever looks again."""
        return {"socket_connect_timeout": timeout, "socket_timeout": timeout, "retry": None,
                **({"password": self.sentinel_password} if self.sentinel_password else {})}


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def sentinels(url: str, given: dict | None = None) -> Sentinels | None:
    """``url`` taken apart if it is a ``sentinel://`` one (None otherwise):
    ``sentinel://[USER:PASSWORD@]HOST[:PORT][/DB];sentinel://HOST[:PORT];…``
    with ``?master_name=NAME[&sentinel_password=PASSWORD]``, each word
    from ``given`` where the URL does not say it. A URL celeryroot cannot
    use raises ValueError saying why."""
    if not url.startswith("sentinel://"):
        return None
    addresses, words, login, db = [], {}, (None, None), 0
    for part in url.split(";"):
        split = urlsplit(part)
        if split.scheme != "sentinel":
            raise ValueError(f"'{masked(part)}' is not a sentinel:// URL (write sentinel:// before every Sentinel)")
        if not split.hostname:
            raise ValueError(f"'{masked(part)}' names no host")
        addresses.append((split.hostname, split.port or SENTINEL_PORT))  # a port that is no number: ValueError
        if split.username or split.password:
            login = (unquote(split.username or "") or None, unquote(split.password or "") or None)
        path = split.path.strip("/")
        if path and not path.isdigit():
            raise ValueError(f"the database '{path}' is not a number")
        db = int(path) if path else db
        words.update(parse_qsl(split.query, keep_blank_values=True))
    unknown = sorted(set(words) - set(SENTINEL_WORDS))
    if any(word.startswith("ssl_") for word in unknown):
        raise ValueError("TLS through Sentinel is not supported yet (ssl_* options); use a rediss:// URL")
    if unknown:
        raise ValueError(f"'{unknown[0]}' is none of {', '.join(SENTINEL_WORDS)}")
    words = {**(given or {}), **{k: v for k, v in words.items() if v}}
    if not words.get("master_name"):
        raise ValueError("it names no primary: give ?master_name=NAME (the name the Sentinels monitor), "
                         "or master_name in celeryroot.yaml")
    return Sentinels(tuple(addresses), words["master_name"], words.get("sentinel_password"), *login, db)


def check_sentinel(url: str, source: str, at: Where | None, given: dict) -> str:
    """A ``sentinel://`` URL written out whole, the configuration file's
    ``master_name`` and ``sentinel_password`` in its query, so that kombu
    and the plain client (messages.redis_client) read the same from the one
    string; else an `InputError`."""
    try:
        return sentinels(url, given).url
    except ValueError as exc:
        raise InputError(at, f"broker URL '{masked(url)}': {exc} (from {source})") from None


def sentinel_given(node, options: dict, source: str) -> dict:
    """The configuration file's words for a ``sentinel://`` URL."""
    given = {}
    for word in SENTINEL_WORDS:
        value = options.get(word)
        if value is not None and not isinstance(value, str):
            raise InputError(value_where(node, word), f"{word} must be a string (in {source})")
        if value:
            given[word] = value
    return given


#: What stands for a secret wherever celeryroot shows or keeps a value:
#: an argument or variable whose name holds one of these words.
MASK = "********"
SECRET_NAME = re.compile(r"passw(or)?d|passphrase|secret|token", re.I)


def masked(url: str) -> str:
    """The broker URL as logs show it: a password (in the URL's user part,
    redis-py's ``?password=``, or ``?sentinel_password=``) becomes ``****``;
    a URL without one is shown as it is, with no mask standing for a
    password that is not there."""
    # Not urlsplit: a URL without a scheme ("user:pw@host") has no netloc for it.
    # Each of a sentinel:// URL's parts (";") may have a login of its own.
    url = re.sub(r"(^|;)((?:[a-z][a-z0-9+.-]*://)?[^:/@;]*):[^/@;]+@", r"\1\2:****@", url)
    return re.sub(r"([?&](?:sentinel_)?password=)[^&#;]*", r"\1****", url)


def host_queue(host: str) -> str:
    return HOST_PREFIX + host


def heartbeat_key(host: str) -> str:
    """A host's heartbeat record (celeryroot/beats.py)."""
    return HOST_PREFIX + host + "/heartbeat"


def drift_keys(host: str) -> tuple[str, str, str]:
    """A host's drift checks (worker/drift.py), under its own prefix so its
    worker may read them: a hash of their names, each to the SHA-256 of its
    schedule (so a worker reads a schedule only when it changed); the
    prefix of each one's sealed schedule (``PREFIX + NAME``); a hash of
    their signed outcomes by name (so ``celeryroot drift`` reads a host's
    names and outcomes in one round trip)."""
    base = HOST_PREFIX + host + "/drift"
    return base, base + ".schedule/", base + ".outcomes"


#: The states a drift outcome is signed in (envelope.py: a reply's state):
#: a check's outcome, sealed to the controller; a schedule refused, signed only.
DRIFT_OUTCOME, DRIFT_REFUSED = "DRIFT", "REFUSED"


def drift_outcome_id(name: str) -> str:
    """What a drift check's outcome is signed as by its host: the controller
    takes it only as the outcome of the schedule of that name."""
    return "celeryroot.drift." + name


def lease_key(run_id: str) -> str:
    return LEASE_PREFIX + run_id


def client_name(host: str) -> str:
    """What a host's worker names each of its Redis connections, so
    ``CLIENT LIST`` tells whose they are (and how many: a fleet shares the
    broker's ``maxclients``)."""
    return HOST_PREFIX + host


def lock_key(host: str) -> str:
    """A host's run lock: outside the host's own prefix, so its worker (whose
    ACL covers that prefix) cannot take or drop it."""
    return "celeryroot.lock." + host


def celery_settings(broker_url: str, host: str | None = None) -> dict:
    """The one settings table for the controller's and the workers' apps.

    ``host`` is given for a worker: it sends results (rpc) to the
    ``reply_to`` queue of the run that asked. The controller reads that
    queue itself, so it keeps no result backend.
    """
    # One list per queue: kombu's default priority steps add lists named
    # QUEUE\x06\x16N, which a per-host ACL pattern cannot name exactly.
    # A broker behind a firewall that drops packets would hold each connect
    # for the OS's minutes; the controller's wait for the broker is seconds.
    #
    # No ack emulation: kombu would keep each message a worker pops in an
    # "unacked" hash and put it back in the queue after the visibility
    # timeout if the worker died, so a task would run again, late, for a run
    # long over. Without it a popped message is gone: a worker that dies
    # with it makes its host unreachable, and nothing runs twice. It also
    # spares every client kombu's unacked keys and their Lua-scripted mutex
    # (no Redis user needs scripting: cli/acl.py).
    transport: dict = {"priority_steps": [0], "socket_connect_timeout": 3, "ack_emulation": False}
    if host is not None:
        # kombu's BRPOP timeout (the Redis transport takes it from
        # polling_interval): a warm shutdown waits for the pending BRPOP's
        # answer, lest a message it pops be lost, so this bounds how long an
        # idle worker takes to stop (1 s by default), at two BRPOPs a second.
        transport["polling_interval"] = WORKER_BRPOP_TIMEOUT
        transport["client_name"] = client_name(host)
    found = sentinels(broker_url)
    if found is not None:
        # The Sentinels tell kombu where the primary is, at every connect.
        transport.update(master_name=found.master_name, sentinel_kwargs=found.sentinel_kwargs(3))
        broker_url = found.kombu_url
    if broker_url == EMBEDDED_BROKER:
        # The in-memory transport polls; a short interval keeps a step in ms.
        transport["polling_interval"] = 0.002
    return {
        "broker_url": broker_url,
        # Results travel back as messages to the run's own reply queue (rpc):
        # no host reads a shared result key, and the embedded mode works the
        # same way over the in-memory transport.
        "result_backend": "rpc://" if host is not None else None,
        "result_persistent": False,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "event_serializer": "json",
        "task_track_started": True,
        "task_acks_late": False,
        "task_create_missing_queues": True,
        "task_default_queue": "celeryroot.nowhere",
        "worker_prefetch_multiplier": 1,
        "worker_enable_remote_control": False,
        "worker_send_task_events": False,
        "worker_hijack_root_logger": False,
        "worker_redirect_stdouts": False,
        "task_send_sent_event": False,
        "broker_connection_retry_on_startup": True,
        # A worker is a service: after a broker outage it reconnects, however long it took.
        "broker_connection_max_retries": None,
        "broker_transport_options": transport,
        "result_backend_transport_options": transport,
        "worker_cancel_long_running_tasks_on_connection_loss": False,
    }
