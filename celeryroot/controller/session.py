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

    config = load_config(opts.broker, opts.config)
    registry = Registry([*config.modules_path, "modules", base / "modules"])
    sources = opts.inventory or (["inventory.yaml"] if os.path.exists("inventory.yaml") else [])
    return config, registry, load_inventory(sources), parse_extra_vars(opts.extra_vars)


def execute(opts, timeouts: tuple[float, float], report, config, registry, inventory, playbook, extra_vars,
            selection, targets) -> int:
    """Run a checked playbook on its ``targets``, shown by ``report``; the exit status."""
    from ..engine.step import Mode
    from ..engine.strategy import Run
    from .bundles import BundleBatch

    hosts = {h for hs in targets.values() for h in hs}
    mode = Mode(check=opts.check, diff=opts.diff)
    with ExitStack() as stack:
        # A run that targets no host (an empty inventory) needs no broker, as Ansible's needs no SSH.
        services = _services(config, registry, hosts, timeouts, report) if hosts else nullcontext((None, None, None))
        dispatcher, facts, pending = stack.enter_context(services)
        run = Run(playbook, inventory, registry, dispatcher, report, mode, extra_vars, selection, facts, pending,
                  bundles=bool(config.options.get("bundles", False)), bundle_batch=BundleBatch)
        try:
            stats = run.run()
        finally:
            report.close()
    report.recap(stats)
    return stats.exit_status()


@contextmanager
def _services(config, registry, hosts: set[str], timeouts: tuple[float, float], report):
    """The dispatcher, fact cache and pending-handler memory of a run: in
    Redis beside the broker, or in memory beside the embedded worker."""
    from ..config import EMBEDDED_BROKER
    from ..engine.pending import PendingHandlers
    from ..lang.source import InputError
    from ..messages import make_app, redis_client
    from ..worker.embedded import LOCAL_HOSTS, embedded_worker
    from .dispatch import Dispatcher
    from .factcache import fact_cache
    from .liveness import Liveness

    host_timeout, broker_wait = timeouts
    with ExitStack() as stack:
        if config.embedded:
            if not hosts <= LOCAL_HOSTS:
                others = ", ".join(sorted(hosts - LOCAL_HOSTS))
                raise InputError(None, f"no broker configured, so only localhost can be managed (embedded mode); "
                                       f"this run targets {others}. Set --broker, CELERYROOT_BROKER_URL or "
                                       f"broker_url in celeryroot.yaml.")
            report.notice("embedded local mode: no broker configured, running an in-process broker and worker")
            broker_url, keys = EMBEDDED_BROKER, stack.enter_context(embedded_worker(registry))
        else:
            broker_url, keys = config.broker_url, redis_client(config.broker_url)
        dispatcher = stack.enter_context(Dispatcher(make_app(broker_url), Liveness(keys), host_timeout, broker_wait))
        yield dispatcher, fact_cache(config, keys), PendingHandlers(keys)


def parse_extra_vars(values: list[str]) -> dict:
    """``-e k=v k2=v2``, ``-e '{"k": 1}'`` or ``-e @vars.yaml``, later ones winning."""
    from ..lang.source import InputError, expect_mapping, load_yaml, plain, where

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
