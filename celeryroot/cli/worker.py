"""celeryroot-worker: the long-lived agent on each managed host.

It consumes exactly its own host's queue, runs modules in-process (solo
pool: one task at a time, which is what one host's play needs), and keeps a
heartbeat key alive. Gossip, mingle, events and remote control are off: each
would need keys shared between hosts. The Celery worker itself is built
in agent.py.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys

from .options import INSECURE_HELP, end


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="celeryroot-worker", description=__doc__.splitlines()[0])
    p.add_argument("--hostname", "-n", default=None,
                   help="this host's name in the inventory (default: the machine's host name)")
    p.add_argument("--broker", default=None, help="broker URL (else CELERYROOT_BROKER_URL or celeryroot.yaml)")
    p.add_argument("--config", default=None, help="configuration file to read instead of the default ones")
    p.add_argument("--modules-path", action="append", default=None,
                   help="directory of site-local modules (repeatable; else modules_path from config)")
    p.add_argument("--pki", default=None,
                   help="this host's PKI directory: host.key, host.crt, ca.crt (else CELERYROOT_PKI, else "
                        "pki_dir from config, else /etc/celeryroot/pki)")
    p.add_argument("--insecure", action="store_true", help=INSECURE_HELP)
    p.add_argument("--audit-log", default=None, metavar="PATH",
                   help="where each module call and refused message is recorded, one JSON line each (else "
                        "CELERYROOT_AUDIT_LOG, else audit_log from config, else /var/log/celeryroot/audit.log)")
    p.add_argument("--allow-modules", default=None, metavar="A,B",
                   help="run only these modules (else allowed_modules from config; default: all)")
    p.add_argument("--deny-modules", default=None, metavar="A,B",
                   help="never run these modules, e.g. command,shell (else denied_modules from config)")
    p.add_argument("--loglevel", "-l", default="INFO")
    return p.parse_args(argv)


def host_seal(directory, host: str):
    """This host's identity, and the CA it trusts controllers by: a worker
    without them does not start (it would run whatever reaches its queue)."""
    from ..envelope import HostSeal
    from ..pki import Trust, host_identity

    trust = Trust(directory)
    return HostSeal(host_identity(directory, trust, host), trust, host)


def main(argv=None) -> int:
    """Returns only on a start-up error; once the worker ran, the process ends here."""
    opts = parse_args(argv)
    from ..config import load_config
    from ..lang.inventory import check_host_name
    from ..lang.source import InputError, Where
    from ..pki import pki_dir
    from ..registry import Registry
    from ..worker.audit import audit_path, open_audit
    from ..worker.policy import module_policy

    host = opts.hostname or socket.gethostname()
    try:
        check_host_name(host, Where("--hostname"))
        config = load_config(opts.broker, opts.config, opts.insecure)
        if config.broker_url is None:
            raise InputError(None, "no broker configured (--broker, CELERYROOT_BROKER_URL or broker_url "
                                   "in celeryroot.yaml)")
        seal = host_seal(pki_dir(opts.pki, config.options), host)
        registry = Registry(opts.modules_path or config.modules_path)
        # Site modules load now: a broken one should stop the start, not a task.
        # Built-ins load when a task first needs them, not on the way to ready
        # (those the policy names excepted: it checks they exist).
        registry.site
        policy = module_policy(registry, opts.allow_modules, opts.deny_modules, config.options)
        audit = open_audit(audit_path(opts.audit_log, config.options), host)
    except InputError as exc:
        print(f"celeryroot-worker: {exc}", file=sys.stderr)
        return 1
    logging.basicConfig(level=opts.loglevel.upper(), format=f"%(asctime)s {host} %(levelname)s %(message)s")
    from ..worker.agent import build_worker

    worker = build_worker(config.broker_url, host, registry, opts.loglevel.upper(), seal, policy, audit)
    worker.start()
    end(worker.exitcode or 0)


if __name__ == "__main__":
    sys.exit(main())
