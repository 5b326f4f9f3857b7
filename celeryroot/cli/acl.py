"""celeryroot acl: the Redis ACL that confines every host's worker to its own keys.

    celeryroot acl -i inventory.yaml --passwords /root/celeryroot-passwords.yaml > /etc/redis/users.acl
    celeryroot acl -i inventory.yaml --passwords pw.yaml --format commands | redis-cli --user admin --askpass
    celeryroot acl -i inventory.yaml --passwords pw.yaml --for-broker eu1 > eu1-users.acl

Each host of the inventory gets a Redis user of its own name, the controller
one named "controller", and the default user is turned off. Passwords come
from the passwords file (YAML, NAME: PASSWORD, mode 0600), which is created
if missing and given a random password for every user that lacks one: the
operator hands each host redis://NAME:PASSWORD@REDIS:6379/0 from there. The
ACL holds only the passwords' SHA-256, never the passwords.

A host's user reaches its own queue celeryroot.host.NAME, its keys
celeryroot.host.NAME/* (its heartbeat, its drift schedules and their
outcomes) and its queue's binding tables,
with the commands a worker sends there and no others; it may only ask
whether a run's lease or its own run lock exists, only LPUSH and EXPIRE a reply queue, and
only add its name to the set of workers. So it cannot read another
host's tasks (rendered
templates and variables) nor any run's results, delete or forge anything,
list keys, or flush, configure or script the server.

With several brokers (``brokers:`` in celeryroot.yaml), ``--for-broker NAME``
prints the ACL of that broker alone: the controller and only the hosts it
serves (their ``celeryroot_broker``, else the stable hash), so a host's
user exists only on its own broker. The passwords file may be the same
for every broker.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import sys
from pathlib import Path

from .options import guarded

CONTROLLER = "controller"

#: What every client sends: HELLO logs in (redis-py speaks RESP3), and
#: redis-py's pipelines and transactions are MULTI/EXEC, with WATCH.
SESSION = ("hello", "auth", "ping", "multi", "exec", "discard", "watch", "unwatch")

#: The commands a worker sends to its own keys: what a real worker sent
#: under this ACL through linear and bundle plays and a broker restart
#: (tests/test_acl.py). No scripting: without kombu's ack emulation
#: (config.py) there is no unacked bookkeeping and no Lua-scripted mutex.
WORKER = (
    "brpop", "llen",  # its queue
    "sadd", "smembers",  # its queue's binding tables
    "set", "get", "del",  # its heartbeat, its drift schedules
    "hgetall", "hget", "hset", "expire",  # its drift schedules' names, their outcomes
    "time",  # the broker's clock, which stamps its heartbeat
    "client|setname",  # each of its connections named for the host (config.client_name)
)

#: What the controller sends: messages to host queues (it declares no
#: binding there: controller/dispatch.py), its reply queue, leases, run
#: locks (redis-py Locks: Lua scripts that GET, DEL and PEXPIRE), heartbeats
#: (read against the broker's clock), the set of known workers (only pruned),
#: facts and pending handlers (a set per host), drift schedules (a hash per host).
CONTROLLER_COMMANDS = ("lpush", "brpop", "llen", "sadd", "srem", "smembers", "get", "mget", "set", "del",
                       "pexpire", "evalsha", "script|load", "time", "hset", "hdel", "hkeys", "hgetall")


def host_rule(host: str, secret: str) -> list[str]:
    """A host's user, as the words of its ACL rule; ``secret`` is its password's hash."""
    from ..beats import WORKERS
    from ..config import LEASE_PREFIX, REPLY_PREFIX, host_queue, lock_key

    queue = host_queue(host)
    keys = [queue, queue + "/*", "_kombu.binding." + queue, "_kombu.binding_permanent." + queue]
    # Selectors (Redis 7): each grants its commands on its keys only, so a
    # reply queue can be pushed to and made to lapse, never read or deleted,
    # and the set of workers only added to; its run lock only looked at (a
    # drift check waits while a run holds the host: worker/drift.py).
    selectors = [f"(%R~{LEASE_PREFIX}* +exists)", f"(%R~{lock_key(host)} +exists)",
                 f"(%W~{REPLY_PREFIX}* +lpush +expire)",
                 f"(%W~{WORKERS} +sadd)"]
    return _rule(host, secret, keys, SESSION + WORKER) + selectors


def controller_rule(secret: str) -> list[str]:
    keys = ["celeryroot.*", "_kombu.binding.celeryroot.*", "_kombu.binding_permanent.celeryroot.*"]
    return _rule(CONTROLLER, secret, keys, SESSION + CONTROLLER_COMMANDS)


def _rule(user: str, secret: str, keys: list[str], commands: tuple[str, ...]) -> list[str]:
    # reset: no keys, channels (pub/sub stays closed), commands or password before ours.
    return [user, "reset", "resetchannels", "on", secret, *("~" + k for k in keys), *("+" + c for c in commands)]


def acl_rules(hosts: list[str], passwords: dict[str, str]) -> list[list[str]]:
    """The default user off, then the controller's and each host's rule,
    with their passwords' SHA-256 (Redis' ``#HEX`` form)."""
    def secret(user: str) -> str:
        return "#" + hashlib.sha256(passwords[user].encode()).hexdigest()

    return [["default", "off"], controller_rule(secret(CONTROLLER)), *(host_rule(h, secret(h)) for h in hosts)]


def users_of(inventory) -> list[str]:
    """The inventory's hosts, which must not take the name of a user the ACL defines itself."""
    from ..lang.inventory import check_host_name
    from ..lang.source import InputError, Where

    hosts = list(inventory.hosts)
    for host in hosts:
        check_host_name(host, Where(inventory.source))
        if host in ("default", CONTROLLER):
            raise InputError(Where(inventory.source), f"host {host!r} has the name of a Redis user the ACL "
                                                      f"defines itself; rename the host")
    return hosts


def served_by(name: str, inventory, hosts: list[str], config_path: str | None) -> list[str]:
    """Those of ``hosts`` whose broker is ``name`` (controller/brokers.py)."""
    from ..config import load_config
    from ..controller.brokers import routes
    from ..lang.source import InputError

    fleet = load_config(None, config_path).brokers
    if name not in fleet:
        raise InputError(None, f"--for-broker {name}: no such broker in brokers: of celeryroot.yaml "
                               f"({', '.join(sorted(fleet)) or 'none configured'})")
    route = routes(fleet, inventory, hosts)
    return [h for h in hosts if route[h] == name]


# -- the passwords file ------------------------------------------------------

def load_passwords(path: Path, users: list[str]) -> dict[str, str]:
    """The passwords in ``path``, with a new random one for each of ``users``
    that has none; the file is written back (mode 0600) if one was added."""
    known = _read_passwords(path) if path.exists() else {}
    missing = [u for u in users if u not in known]
    if missing or not path.exists():
        known.update({u: secrets.token_urlsafe(24) for u in missing})
        _write_private(path, "# Redis passwords of celeryroot's users (celeryroot acl); keep it private.\n"
                       + "".join(f"{json.dumps(u)}: {json.dumps(p)}\n" for u, p in known.items()))
    return known


def _read_passwords(path: Path) -> dict[str, str]:
    from ..lang.source import InputError, Where, expect_mapping, value_where, where
    from ..lang.yamlread import load_yaml

    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise InputError(Where(str(path)), f"the passwords file is open to others than its owner (mode "
                                           f"{mode:04o}); make it private: chmod 600 {path}")
    node = load_yaml(path)
    if node is None:
        return {}
    mapping = expect_mapping(node, where(node, Where(str(path))), "passwords file")
    for user, password in mapping.items():
        if not isinstance(password, str) or not password:
            raise InputError(value_where(mapping, user), f"the password of {user!r} must be a non-empty string")
    return {str(user): password for user, password in mapping.items()}


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as a new file that only its owner can read,
    in one rename, so the file is never seen half-written or open."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


# -- the command -------------------------------------------------------------

def parse_args(argv) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="celeryroot acl", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-i", "--inventory", action="append", required=True,
                   help="inventory file, directory or host list (repeatable)")
    p.add_argument("--passwords", required=True, type=Path,
                   help="YAML file of NAME: PASSWORD (mode 0600), created or completed as needed")
    p.add_argument("--format", choices=("acl", "commands"), default="acl",
                   help="acl: a file for Redis' aclfile (default); commands: ACL SETUSER lines for redis-cli")
    p.add_argument("--for-broker", metavar="NAME", default=None,
                   help="only the hosts the broker NAME of brokers: in celeryroot.yaml serves")
    p.add_argument("--config", default=None, help="configuration file instead of the default ones")
    return p.parse_args(argv)


def run(opts) -> int:
    from ..lang.inventories import load_inventory

    inventory = load_inventory(opts.inventory)
    hosts = users_of(inventory)
    if opts.for_broker is not None:
        hosts = served_by(opts.for_broker, inventory, hosts, opts.config)
    rules = acl_rules(hosts, load_passwords(opts.passwords, [CONTROLLER, *hosts]))
    if opts.format == "commands":
        # redis-cli splits a line at spaces: a selector is one quoted argument.
        lines = ["ACL SETUSER " + " ".join(f'"{w}"' if " " in w else w for w in rule) for rule in rules]
    else:
        lines = ["user " + " ".join(rule) for rule in rules]
    print("\n".join(lines))
    return 0


def main(argv=None) -> int:
    return guarded(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
