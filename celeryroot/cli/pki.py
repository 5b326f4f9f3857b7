"""celeryroot pki: the CA, the controller's identity and each host's.

    celeryroot pki init                 # ca.key/.crt and controller.key/.crt
    celeryroot pki host web1 web2       # hosts/web1/{host.key,host.crt,ca.crt}, …
    celeryroot pki revoke web2          # web2's certificate joins crl.pem

Copy ``hosts/NAME/`` to that host's /etc/celeryroot/pki/ (keys stay 0600,
owned by the worker's user), and crl.pem to every host after a revocation.
The directory is --dir, else CELERYROOT_PKI, else pki_dir from
celeryroot.yaml, else /etc/celeryroot/pki.
"""

from __future__ import annotations

import argparse
import sys


def parse_args(argv) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="celeryroot pki", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", default=None, help="the PKI directory")
    p.add_argument("--config", default=None, help="configuration file instead of the default ones")
    sub = p.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init", help="make a CA and the controller's key and certificate")
    init.add_argument("--name", default="controller", help="the controller's name in its certificate")
    host = sub.add_parser("host", help="issue a key and certificate for each host NAME")
    host.add_argument("names", nargs="+", metavar="NAME")
    revoke = sub.add_parser("revoke", help="revoke a host's (or the controller's) certificate")
    revoke.add_argument("name")
    return p.parse_args(argv)


def run(opts) -> int:
    from .. import pki
    from ..config import load_config
    from ..lang.inventory import check_host_name
    from ..lang.source import Where

    directory = pki.pki_dir(opts.dir, load_config(None, opts.config).options)
    if opts.command == "init":
        written = pki.init(directory, opts.name)
    elif opts.command == "host":
        for name in opts.names:
            check_host_name(name, Where("celeryroot pki host"))
        written = [path for name in opts.names for path in pki.issue_host(directory, name)]
    else:
        cert = pki.revoke(directory, opts.name)
        print(f"revoked {opts.name} (serial {cert.serial_number:x}) in {directory / 'crl.pem'}; "
              "copy it to every host's PKI directory and restart their workers")
        return 0
    for path in written:
        print(f"wrote {path}")
    return 0


def main(argv) -> int:
    from .options import guarded

    return guarded(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
