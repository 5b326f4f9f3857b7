"""A run's set-up on the controller: configuration, modules, inventory and
extra vars from the command line; the dispatcher, fact cache and pending
handlers it talks to (over Redis, or the embedded local mode's in-process
broker and worker); and the run itself with its report.
celeryroot-play and celeryroot (ad-hoc) both start runs here.
"""

from __future__ import annotations

import json
import os
from contextlib import ExitStack, contextmanager, nullcontext
from pathlib import Path


def load_context(opts, base: Path):
    """Configuration, modules (``base/modules`` too), inventory and extra vars
    of a run, from the options celeryroot-play and celeryroot share."""
    from ..config import load_config
    from ..lang.inventories import load_inventory
    from ..registry import Registry

    config = load_config(opts.broker, opts.config, opts.insecure)
    registry = Registry([*config.modules_path, "modules", base / "modules"])
    sources = opts.inventory or (["inventory.yaml"] if os.path.exists("inventory.yaml") else [])
    return config, registry, load_inventory(sources), parse_extra_vars(opts.extra_vars)


#: Exit status of a run stopped by SIGINT or SIGTERM (Ansible's for a user interrupt).
INTERRUPTED = 99


def execute(opts, timeouts: tuple[float, float], report, config, registry, inventory, playbook, extra_vars,
            selection, targets) -> int:
    """Run a checked playbook on its ``targets``, shown by ``report`` and
    recorded in the run history (controller/history.py); the exit status.

    A run begins once its services answer (its broker reached, or the
    embedded one started): what stops it before that is one ERROR line and
    exit 1, as bad input is. From then on the report's first and last lines
    name the run by its id; a run stopped part way still ends with its
    recap and is recorded as interrupted with what was known: SIGINT or
    SIGTERM (exit 99), or a broker lost for longer than the wait for it
    (the hosts whose task was under way are counted unreachable: their
    outcome is unknown; exit 4)."""
    from ..broker import BrokerLost
    from ..engine.state import RunState
    from ..engine.step import Mode
    from ..engine.strategy import Run
    from . import history
    from .bundles import BundleBatch
    from ..engine.delegation import delegates
    from .dispatch import new_run_id

    run_id = new_run_id()
    # The run reaches its targets, and the hosts their tasks delegate to.
    hosts = {h for hs in targets.values() for h in hs}
    hosts |= delegates(playbook, inventory.hosts) if hosts else set()
    mode = Mode(check=opts.check, diff=opts.diff)
    with ExitStack() as stack:
        # A run that targets no host (an empty inventory) needs no broker, as Ansible's needs no SSH.
        services = _services(run_id, config, registry, inventory, hosts, timeouts, opts) if hosts \
            else nullcontext((None, None, None, False))
        dispatcher, facts, pending, embedded = stack.enter_context(services)
        begun = Begun(run_id, opts, report, config, playbook, embedded)
        report = begun.report
        run = Run(inventory, registry, report, mode, extra_vars, selection, RunState(pending=pending),
                  dispatcher=dispatcher, facts=facts, strategy=opts.strategy,
                  bundles=config.options.get("bundles"), bundle_batch=BundleBatch)
        stats = run.state.stats
        try:
            try:
                run.run(playbook)
            finally:
                report.close()
        except KeyboardInterrupt as exc:
            why = exc.args[0] if exc.args else "SIGINT"
            report.notice(f"[ERROR]: interrupted by {why}{_under_way(dispatcher)}; the recap shows the results so far")
            report.recap(stats)
            return begun.end(history.INTERRUPTED, INTERRUPTED, why)
        except BrokerLost as exc:
            for host in dispatcher.waiting if dispatcher is not None else ():
                stats.count(host, {"unreachable": True})
            report.notice(f"[ERROR]: {exc}{_under_way(dispatcher)}; their outcome is unknown")
            report.recap(stats)
            return begun.end(history.INTERRUPTED, stats.exit_status(), str(exc))
        except BaseException as exc:
            begun.end(history.ERROR, 1, str(exc) or type(exc).__name__)
            raise
    report.recap(stats)
    return begun.end(history.FINISHED, stats.exit_status())


class Begun:
    """A run that has begun: its first line said, its history opened (old
    runs pruned), and ``report`` the operator's report beside its recorder."""

    def __init__(self, run_id: str, opts, report, config, playbook, embedded: bool):
        import shlex
        import time

        from ..report import Reports
        from .history import start_recording

        self.run_id, self.started, self.clock = run_id, time.monotonic(), time.monotonic
        report.run_start(run_id, shlex.join(opts.command))
        if embedded:
            report.notice("embedded local mode: no broker configured, running an in-process broker and worker")
        path = playbook.path if playbook.path.is_file() else None  # not the ad-hoc command's
        self.record = start_recording(config.options, run_id, opts.command, path, opts.check, report.notice)
        self.report = Reports(report, self.record)

    def end(self, state: str, status: int, reason: str | None = None) -> int:
        """Record how the run ended and say it in its last line; its exit status."""
        from .history import ERROR

        self.record.finish(state, status, reason)
        where = f"celeryroot-runs show {self.run_id}" if self.record.recorded else "not recorded"
        # An error's own lines (its traceback) follow: they are not said twice.
        why = f" ({reason})" if reason and state != ERROR else ""
        self.report.run_end(self.run_id, f"{state}{why}, exit {status}, {self.clock() - self.started:.1f} s; {where}")
        return status


def _under_way(dispatcher) -> str:
    waiting = sorted(dispatcher.waiting) if dispatcher is not None else []
    return f" while {', '.join(waiting)} had a task under way" if waiting else ""


@contextmanager
def _services(run_id: str, config, registry, inventory, hosts: set[str], timeouts: tuple[float, float], opts):
    """The dispatcher, fact cache and pending-handler memory of a run: in
    Redis beside each host's broker, or in memory beside the embedded worker
    (and whether it is that one).
    Over Redis every host's broker is chosen, the controller's key and every
    host's certificate loaded first: a host without them fails the run
    before any is contacted."""
    from ..config import EMBEDDED_BROKER, SOLE_BROKER
    from ..engine.pending import PendingHandlers
    from ..envelope import Unsealed
    from ..keys import MemoryKeys
    from ..pki import pki_dir
    from ..lang.source import InputError
    from ..messages import redis_client
    from .brokers import ByHost, routes
    from .dispatch import Dispatcher
    from .factcache import fact_cache
    from .lease import Lease, RunLocks
    from .link import Link
    from .liveness import Everyone, Liveness

    host_timeout, broker_wait = timeouts
    with ExitStack() as stack:
        if config.embedded:
            # Only here: the embedded worker brings Celery's worker side and its backend.
            from ..worker.embedded import LOCAL_HOSTS, embedded_worker

            if not hosts <= LOCAL_HOSTS:
                others = ", ".join(sorted(hosts - LOCAL_HOSTS))
                raise InputError(None, f"no broker configured, so only localhost can be managed (embedded mode); "
                                       f"this run targets {others}. Set --broker, CELERYROOT_BROKER_URL or "
                                       f"broker_url in celeryroot.yaml.")
            seal = Unsealed()
            keys = stack.enter_context(embedded_worker(registry, config.options))
            links = {SOLE_BROKER: Link(SOLE_BROKER, EMBEDDED_BROKER, keys, Everyone(), run_id)}
            route = dict.fromkeys(hosts, SOLE_BROKER)
        else:
            route = routes(config.fleet, inventory, sorted(hosts))
            seal = controller_seal(pki_dir(opts.pki, config.options), hosts)
            links = {}
            for name in sorted(set(route.values())):
                client = redis_client(config.fleet[name], wait=broker_wait)
                links[name] = Link(name, config.fleet[name], client, Liveness(client), run_id)
        dispatcher = stack.enter_context(Dispatcher(links, route, seal, host_timeout, broker_wait, run_id))
        for link in dispatcher.up if not config.embedded else ():  # the embedded worker ends with this process
            # --check changes nothing: it takes no lock and waits for none.
            if not opts.check:
                link.locks = RunLocks(link.client, run_id, opts.lock_timeout)
            stack.enter_context(Lease(link.client, run_id, locks=link.locks))
        # A broker down from the start serves none of its hosts: memory stands in for their stores.
        stores = {name: link.client if link.down is None else MemoryKeys() for name, link in links.items()}
        facts = ByHost(route, {name: fact_cache(config, keys) for name, keys in stores.items()})
        pending = ByHost(route, {name: PendingHandlers(keys) for name, keys in stores.items()})
        yield dispatcher, facts, pending, config.embedded


def controller_seal(directory: Path, hosts: set[str]):
    """The controller's identity (a run stops without it) and the
    certificates of ``hosts`` (a host without a trusted one is unreachable,
    as a host without SSH keys is to Ansible)."""
    from ..envelope import ControllerSeal
    from ..pki import PkiError, Trust, controller_identity, host_certificate

    trust = Trust(directory)
    identity = controller_identity(directory, trust)
    certs, unknown = {}, {}
    for host in sorted(hosts):
        try:
            certs[host] = host_certificate(directory, trust, host)
        except PkiError as exc:
            unknown[host] = str(exc)
    return ControllerSeal(identity, certs, unknown)


def parse_extra_vars(values: list[str]) -> dict:
    """``-e k=v k2=v2``, ``-e '{"k": 1}'`` or ``-e @vars.yaml``, later ones winning."""
    from ..lang.source import InputError, expect_mapping, plain, where
    from ..lang.yamlread import load_yaml

    out: dict = {}
    for value in values:
        value = value.strip()
        if value.startswith("@"):
            node = load_yaml(value[1:])
            out.update(plain(expect_mapping(node, where(node), f"extra vars file {value[1:]}")))
        elif value.startswith("{"):
            try:
                out.update(json.loads(value))
            except json.JSONDecodeError as exc:
                raise InputError(None, f"-e {value!r}: not valid JSON: {exc}") from None
        else:
            import shlex
            for pair in shlex.split(value):
                if "=" not in pair:
                    raise InputError(None, f"-e {pair!r}: expected key=value")
                key, _, val = pair.partition("=")
                out[key] = val
    return out
