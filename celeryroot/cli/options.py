"""What celeryroot-play and celeryroot (ad-hoc) share on the command line:
the options of a run, and how a command's errors end it."""

from __future__ import annotations

import argparse
import atexit
import gc
import os
import signal
import sys

#: Defaults of ``--timeout``: for a host to start a task, and for the broker to answer.
HOST_TIMEOUT = 30.0
BROKER_WAIT = 5.0
#: Default of ``--lock-timeout``.
LOCK_TIMEOUT = 30.0
INSECURE_HELP = "let a rediss:// broker URL skip the broker's certificate checks (ssl_cert_reqs=none)"


def run_options() -> argparse.ArgumentParser:
    """The options of a run, as a parent parser: where the hosts are, how the
    run is made and shown, and where the broker is."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("-i", "--inventory", action="append", default=None,
                   help="inventory file, directory or host list; repeatable, later sources win "
                        "(default: ./inventory.yaml)")
    p.add_argument("-l", "--limit", default=None, help="further limit the hosts with a pattern")
    p.add_argument("-C", "--check", action="store_true", help="predict changes; change nothing")
    p.add_argument("-D", "--diff", action="store_true", help="show the differences made (or predicted)")
    p.add_argument("-e", "--extra-vars", action="append", default=[],
                   help="k=v pairs, JSON/YAML, or @file.yaml (repeatable; highest precedence)")
    p.add_argument("-v", "--verbose", action="count", default=0, help="show module messages and output")
    p.add_argument("--json", action="store_true", help="print one JSON document (like Ansible's json callback)")
    p.add_argument("--strategy", choices=("linear", "free"), default=None,
                   help="run every play this way, whatever it says: linear (each task on every host, then "
                        "the next) or free (each host its whole play in one message); default: as each play "
                        "says, else whole-play bundles where nothing in the play depends on other hosts")
    p.add_argument("--timeout", type=float, default=None,
                   help=f"seconds a host may take to start a task before it is UNREACHABLE (default "
                        f"{HOST_TIMEOUT:g}), and the broker to answer (default {BROKER_WAIT:g})")
    p.add_argument("--lock-timeout", type=float, default=LOCK_TIMEOUT,
                   help=f"seconds to wait for a host another run holds before leaving it out "
                        f"(default {LOCK_TIMEOUT:g}; --check runs take no lock)")
    p.add_argument("--broker", default=None, help="broker URL (else CELERYROOT_BROKER_URL, else celeryroot.yaml)")
    p.add_argument("--config", default=None, help="configuration file instead of the default ones")
    p.add_argument("--pki", default=None,
                   help="the controller's PKI directory: controller.key/.crt, ca.crt, hosts/NAME/host.crt "
                        "(else CELERYROOT_PKI, else pki_dir from config, else /etc/celeryroot/pki)")
    p.add_argument("--insecure", action="store_true", help=INSECURE_HELP)
    return p


def parse_run(parser: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """A run's options; ``command`` is its command line as its report and
    history show it (`shown_argv`)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    opts = parser.parse_args(argv)
    opts.command = [parser.prog, *shown_argv(argv)]
    return opts


def shown_argv(argv: list[str]) -> list[str]:
    """``argv`` with the password of a ``--broker`` URL masked, and the
    values named like secrets in extra vars and ad-hoc module arguments
    (``-e db_password=…``, ``-a "name=x password=…"``, in ``k=v`` pairs or
    JSON; an ``@file`` is only its name)."""
    out, mask = [], None
    for arg in argv:
        if mask is not None:
            out.append(mask(arg))
            mask = None
            continue
        name, eq, value = arg.partition("=")
        if name.startswith("--"):
            # argparse takes an option's unambiguous start for the option: --brok, --extra
            how = next((how for option, how in _MASKED.items() if len(name) > 3 and option.startswith(name)), None)
        else:
            how = _MASKED.get(arg[:2])
            name, eq, value = arg[:2], "", arg[2:]
        if how is None:
            out.append(arg)
        elif value or eq:
            out.append(name + eq + how(value))
        else:
            out.append(arg)
            mask = how
    return out


def _broker(url: str) -> str:
    from ..config import masked

    return masked(url)


def _variables(value: str) -> str:
    import json
    import shlex

    from ..config import MASK, SECRET_NAME

    def hide(data):
        if isinstance(data, dict):
            return {k: MASK if SECRET_NAME.search(str(k)) else hide(v) for k, v in data.items()}
        return [hide(v) for v in data] if isinstance(data, list) else data

    if value.lstrip().startswith("{"):
        try:
            data = json.loads(value)
            return value if hide(data) == data else json.dumps(hide(data))
        except json.JSONDecodeError:
            return MASK  # the run stops on it; what it held is not known to be harmless
    if value.startswith("@"):
        return value
    try:
        pairs = shlex.split(value)
    except ValueError:
        return MASK
    if not any(SECRET_NAME.search(p.partition("=")[0]) for p in pairs if "=" in p):
        return value  # as typed, quotes and all
    return " ".join(f"{k}={MASK}" if sep and SECRET_NAME.search(k) else shlex.quote(k + sep + v)
                    for k, sep, v in (p.partition("=") for p in pairs))


#: The options `shown_argv` masks, long and short.
_MASKED = {"--broker": _broker, "--extra-vars": _variables, "--args": _variables, "-e": _variables,
           "-a": _variables}


def timeouts(opts) -> tuple[float, float]:
    """``--timeout`` as (host timeout, broker wait)."""
    if opts.timeout is None:
        return HOST_TIMEOUT, BROKER_WAIT
    return opts.timeout, opts.timeout


def guarded(command, opts) -> int:
    """Run a command line's ``command``: bad input, or a broker that cannot
    be reached, is exit status 1 with the error on stderr; an interrupt
    (SIGINT, SIGTERM) 99."""
    from ..lang.source import InputError

    # SIGTERM ends a run as Ctrl-C does: its lease is given back, its recap printed.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        return command(opts)
    except InputError as exc:
        print(f"ERROR! {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        if not _broker_unreachable(exc):
            raise
        print(f"ERROR! cannot reach the broker: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 99


def starting() -> None:
    """A run's start-up allocates what lives as long as the process (its
    modules, the playbook, the inventory) and no garbage worth a collection:
    the collector's passes over that growing heap were ~10 % of a one-host
    run's CPU. It waits until `started`."""
    gc.disable()


def started() -> None:
    """The run is loaded and checked: what start-up made is set aside for
    good (``gc.freeze``: no collection scans it again) and the collector
    resumes for the run itself, whose size grows with the fleet."""
    gc.freeze()
    gc.enable()


def end(code: int) -> None:
    """Exit with ``code`` without tearing the interpreter down, once the
    command has released what it holds (its report written, its broker
    connection and lease given back). The atexit handlers run (logging
    flushes there, and Celery's SIGHUP restart execs from one), but freeing
    every module and object at finalization cost a stopping worker 0.2 s of
    CPU, and a one-host run ~50 ms of its ~0.3 s. Under a profiler or a
    tracer (cProfile, coverage), which write their figures once the program
    returns, the interpreter ends as usual."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        raise SystemExit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (| head) or stream: nothing more can be said
            pass
    os._exit(code)


def _terminated(signum, frame):
    raise KeyboardInterrupt("SIGTERM")


def _broker_unreachable(exc: Exception) -> bool:
    # Imported here: by now Celery and redis are loaded anyway, and --help,
    # --syntax-check and bad input stay fast without them.
    from kombu.exceptions import OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError

    return isinstance(exc, (OperationalError, RedisConnectionError))
