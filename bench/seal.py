#!/usr/bin/env python3
"""What the envelope costs: CPU per message on each side (celeryroot/envelope.py).

    python3 bench/seal.py [--count 2000]

A linear task (one module call, its arguments rendered) and a bundle (a
whole play with its files; sealed once per host per play), each way:
the controller seals the task and opens the reply; the host opens the
task and seals the reply. Process CPU time, median of five rounds. It
prints figures and never judges them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from celeryroot import pki  # noqa: E402
from celeryroot.envelope import ControllerSeal, HostSeal  # noqa: E402

LINEAR = [[{"module": "template", "args": {"dest": "/etc/nginx/nginx.conf", "mode": "0644",
                                            "_content": "worker_processes auto;\n" * 40, "_checksum": "0" * 40},
            "check": False, "diff": True, "no_log": False}], []]
REPLY = {"results": [{"status": "changed", "changed": True, "failed": False, "skipped": False, "msg": "",
                      "diff": [{"before": "x\n" * 20, "after": "y\n" * 20}]}], "predicted": []}


def bundle_payload() -> dict:
    """About the size of a 20-task play with two templates and its variables."""
    tasks = [{"name": f"task {i}", "module": "file", "args": {"path": f"/srv/app/{i}", "state": "directory"}}
             for i in range(20)]
    return {"host": "web1", "play": {"tasks": tasks}, "sources": {"a.j2": "x" * 8000, "b.j2": "y" * 8000},
            "play_vars": {f"v{i}": "value" * 10 for i in range(100)}, "state": {}}


def rounds(count: int, work) -> float:
    """Median CPU milliseconds per call of ``work(i)`` over five rounds."""
    figures = []
    for r in range(5):
        started = time.process_time()
        for i in range(count):
            work(r * count + i)
        figures.append((time.process_time() - started) / count * 1000)
    return statistics.median(figures)


def measure(name: str, task: str, args, reply, count: int, ctl: ControllerSeal, host: HostSeal) -> dict:
    """CPU milliseconds per message of each side, for one kind of message."""
    sealed = {}

    def seal(i):
        sealed[i] = ctl.seal_task("web1", f"{name}.{i}.web1", task, "celeryroot.reply.run", args, 60)

    replies = {}

    def open_and_answer(i):
        request = SimpleNamespace(id=f"{name}.{i}.web1", task=task, reply_to="celeryroot.reply.run")
        host.open_task(request, tuple(sealed.pop(i)))
        replies[i] = host.seal_reply(request.id, "SUCCESS", reply)
        host.done(request.id)

    def open_reply(i):
        ctl.open_reply("web1", {"task_id": f"{name}.{i}.web1", "status": "SEALED", "result": replies.pop(i)})

    controller_seal = rounds(count, seal)
    host_side = rounds(count, open_and_answer)
    controller_open = rounds(count, open_reply)
    return {"payload_kib": len(json.dumps(args)) / 1024, "controller_seal_ms": controller_seal,
            "controller_open_ms": controller_open, "controller_ms": controller_seal + controller_open,
            "host_ms": host_side}


def costs(count: int) -> dict[str, dict]:
    """Per-message CPU of a linear task and of a bundle, with a fresh PKI."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        pki.init(directory)
        host_dir = directory / "hosts" / "web1"
        pki.issue_host(directory, "web1")
        trust = pki.Trust(directory)
        ctl = ControllerSeal(pki.controller_identity(directory, trust),
                             {"web1": pki.host_certificate(directory, trust, "web1")}, {})
        host_trust = pki.Trust(host_dir)
        host = HostSeal(pki.host_identity(host_dir, host_trust, "web1"), host_trust, "web1")
        return {"linear": measure("linear", "celeryroot.run", LINEAR, REPLY, count, ctl, host),
                "bundle": measure("bundle", "celeryroot.play", [bundle_payload()], {"registered": {}, "stats": {}},
                                  max(count // 10, 50), ctl, host)}


def describe(name: str, row: dict) -> str:
    return (f"{name:8} payload {row['payload_kib']:6.1f} KiB | controller: seal {row['controller_seal_ms']:.3f} ms "
            f"+ open reply {row['controller_open_ms']:.3f} ms = {row['controller_ms']:.3f} ms | host: open + seal "
            f"reply {row['host_ms']:.3f} ms")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=2000)
    opts = p.parse_args(argv)
    print(f"CPU per message (median of 5 rounds of {opts.count}), ECDSA P-256 + ECDH + AES-256-GCM:")
    for name, row in costs(opts.count).items():
        print(describe(name, row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
