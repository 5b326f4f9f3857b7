"""A load simulator: thousands of celeryroot hosts from a few processes.

Not part of the product. Each simulated host has its own queue
(``celeryroot.host.NAME`` behind its own exchange, as ``messages.queue_for``
declares it), its own directory (the inventory's ``root``), its own
heartbeat key, and runs the worker's own code for both of its tasks:
``celeryroot.run`` with ``runner.run_calls`` and a ``Registry``, and a
whole-play bundle (``celeryroot.play``) with ``worker.bundle.run_bundle``, its
results batched by ``app.Progress`` into ``PROGRESS`` states. Replies are
what a real worker sends through Celery's rpc backend: ``STARTED``, any
``PROGRESS``, then ``SUCCESS`` (or ``FAILURE``) to the request's
``reply_to`` queue with ``correlation_id`` = task id, published by kombu.

What differs from real workers, on purpose: one process serves a slice of
hosts instead of one process each, and it pops messages with one Lua call
over all its queues instead of one BRPOP per message (kombu's Redis
consumer re-sends BRPOP with every queue key after each message, which is
O(hosts) per message). Like a worker (whose kombu runs without ack
emulation: config.py), it keeps no unacked bookkeeping in Redis. Messages with a priority other than 0
(none are sent by celeryroot) and task expiry are not handled.

    python bench/simulate.py serve --broker URL --hosts 1000 --root DIR
    python bench/simulate.py measure --hosts 1000 5000 --tasks 10
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lab  # noqa: E402

#: Pops at most one message from each non-empty queue; returns [key, payload, ...].
SWEEP = """
local out = {}
for _, key in ipairs(KEYS) do
  local payload = redis.call('RPOP', key)
  if payload then
    out[#out + 1] = key
    out[#out + 1] = payload
  end
end
return out
"""


class SimulatedHosts:
    """One process serving a slice of hosts until it is terminated."""

    def __init__(self, broker_url: str, hosts: list[str], root: Path):
        import redis
        from kombu import Connection, Producer

        from celeryroot.messages import queue_for
        from celeryroot.config import HEARTBEAT_TTL, heartbeat_key, host_queue
        from celeryroot.registry import Registry

        self.hosts = hosts
        self.root = root
        self.registry = Registry()
        self.registry.classes  # noqa: B018 - import every module before the first message, as a worker does
        self.connection = Connection(broker_url)
        self.channel = self.connection.default_channel
        for host in hosts:
            queue_for(host)(self.channel).declare()
        self.producer = Producer(self.channel)
        self.client = redis.Redis.from_url(broker_url)
        self.sweep = self.client.register_script(SWEEP)
        self.keys = [host_queue(h) for h in hosts]
        self.ttl = HEARTBEAT_TTL
        self.heartbeat_keys = [heartbeat_key(h) for h in hosts]
        self.hostname = socket.gethostname()

    def serve(self) -> None:
        threading.Thread(target=self._heartbeats, daemon=True).start()
        while True:
            batch = self.sweep(keys=self.keys)
            if not batch:
                got = self.client.brpop(self.keys, timeout=1)
                if not got:
                    continue
                batch = list(got)
            self._handle([(batch[i].decode(), batch[i + 1]) for i in range(0, len(batch), 2)])

    def _heartbeats(self) -> None:
        import redis

        from celeryroot.beats import HEARTBEAT_KEEP, Beat, broker_time

        client = redis.Redis.from_url(self.connection.as_uri(include_password=True))
        while True:
            value = Beat(at=broker_time(client.time()), pid=os.getpid(), version="simulated").encode()
            pipe = client.pipeline(transaction=False)
            for key in self.heartbeat_keys:
                pipe.set(key, value, ex=HEARTBEAT_KEEP)
            pipe.execute()
            time.sleep(self.ttl / 3)

    def _handle(self, batch: list[tuple[str, bytes]]) -> None:
        from kombu.transport.virtual import Message

        messages = [(key, Message(json.loads(payload), channel=self.channel), payload) for key, payload in batch]
        for _, message, _ in messages:
            self._reply(message, "STARTED", {"pid": os.getpid(), "hostname": self.hostname})
        for _, message, _ in messages:
            try:
                self._reply(message, "SUCCESS", self._run(message))
            except Exception as exc:  # as Celery does: the task's exception is the answer
                self._reply(message, "FAILURE", {"exc_type": type(exc).__name__, "exc_message": [str(exc)],
                                                 "exc_module": type(exc).__module__})

    def _run(self, message) -> dict:
        """What the worker's task of that name returns (celeryroot/worker/app.py)."""
        from celeryroot.messages import PLAY_TASK
        from celeryroot.worker.app import Progress
        from celeryroot.engine.runner import run_calls

        args = message.decode()[0]
        if message.headers["task"] != PLAY_TASK:
            return run_calls(self.registry, *args)
        from celeryroot.worker.bundle import run_bundle

        progress = Progress(lambda events: self._reply(message, "PROGRESS", {"events": events}))
        try:
            return run_bundle(self.registry, args[0], progress.emit)
        finally:
            progress.flush()

    def _reply(self, message, status: str, result) -> None:
        """Celery's rpc backend message (backends/rpc.py store_result)."""
        task_id = message.headers["id"]
        done = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()) if status == "SUCCESS" else None
        self.producer.publish(
            {"status": status, "result": result, "traceback": None, "children": [], "date_done": done,
             "task_id": task_id},
            exchange="", routing_key=message.properties["reply_to"],
            correlation_id=message.properties.get("correlation_id") or task_id,
            serializer="json", delivery_mode=1)


def _serve_slice(broker_url: str, hosts: list[str], root: str) -> None:
    SimulatedHosts(broker_url, hosts, Path(root)).serve()


class Simulator:
    """``procs`` processes, each serving an equal slice of ``hosts``."""

    def __init__(self, broker_url: str, hosts: list[str], root: Path, procs: int):
        self.broker_url = broker_url
        self.hosts = hosts
        ctx = multiprocessing.get_context("spawn")
        self.procs = [ctx.Process(target=_serve_slice, args=(broker_url, hosts[i::procs], str(root)), daemon=True)
                      for i in range(procs)]

    def start(self, redis: lab.RedisServer, timeout: float = 300) -> float:
        started = time.monotonic()
        for proc in self.procs:
            proc.start()
        lab.wait_for(lambda: len(lab.alive(redis.client, self.hosts)) == len(self.hosts), timeout,
                       f"{len(self.hosts)} simulated heartbeats", every=0.1)
        return time.monotonic() - started

    def cpu(self) -> float:
        return sum(lab.proc_cpu(p.pid) for p in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.join(10)


def measure(counts: list[int], tasks: int, runs: int, procs: int, workdir: Path, modes=lab.MODES,
            out=print) -> list[dict]:
    """Controller and Redis at each host count, each mode on the same
    simulated fleet; a converging run first."""
    rows = []
    redis = lab.start_redis(workdir)
    cwd = lab.mode_dirs(workdir)
    try:
        for count in counts:
            hosts = lab.host_names("sim", count)
            root = lab.fresh_dir(workdir / f"sim-{count}")
            playbook = lab.write_playbook(workdir / f"play-{tasks}.yaml", tasks)
            inventory = lab.write_inventory(workdir / f"inventory-{count}.yaml", hosts, root)
            sim = Simulator(redis.url, hosts, root, procs)
            up = sim.start(redis)
            try:
                argv = lab.play_argv(playbook, inventory, redis.url, "--timeout", "600")
                converge = lab.timed(argv, cwd=cwd[modes[-1]])
                lab.play_stats(converge)
                for mode in modes:
                    for _ in range(runs):
                        redis_before, sim_before = redis.cpu(), sim.cpu()
                        run = lab.timed(argv, cwd=cwd[mode])
                        stats = lab.play_stats(run)
                        row = {"hosts": count, "tasks": tasks, "mode": mode, "wall": run.wall,
                               "controller_cpu": run.cpu, "redis_cpu": redis.cpu() - redis_before,
                               "simulator_cpu": sim.cpu() - sim_before, "ok": stats["ok"],
                               "changed": stats["changed"], "failed": stats["failed"],
                               "unreachable": stats["unreachable"], "start": up, "converge_wall": converge.wall}
                        rows.append(row)
                        out(format_row(row))
            finally:
                sim.stop()
                lab.forget(redis.client, hosts)
    finally:
        redis.stop()
    return rows


def format_row(row: dict) -> str:
    host_tasks = row["hosts"] * row["tasks"]
    return (f"  {row['hosts']:>5} simulated hosts x {row['tasks']} tasks, {row['mode']:<7}: wall {row['wall']:6.2f} s, "
            f"controller CPU {row['controller_cpu']:6.2f} s ({1000 * row['controller_cpu'] / host_tasks:.2f} ms "
            f"per host-task), Redis CPU {row['redis_cpu']:5.2f} s ({1000 * row['redis_cpu'] / host_tasks:.2f} ms), "
            f"simulator CPU {row['simulator_cpu']:5.2f} s; ok={row['ok']} changed={row['changed']} "
            f"failed={row['failed']} unreachable={row['unreachable']} "
            f"(fleet up in {row['start']:.1f} s, converging run {row['converge_wall']:.1f} s)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve simulated hosts on an existing broker until interrupted")
    serve.add_argument("--broker", required=True)
    serve.add_argument("--hosts", type=int, default=1000)
    serve.add_argument("--prefix", default="sim")
    serve.add_argument("--root", type=Path, required=True, help="each host works under ROOT/HOST")
    serve.add_argument("--procs", type=int, default=1)
    m = sub.add_parser("measure", help="start Redis and the simulator; time celeryroot-play against them")
    m.add_argument("--hosts", type=int, nargs="+", default=[1000, 5000])
    m.add_argument("--tasks", type=int, default=10)
    m.add_argument("--runs", type=int, default=1, help="warm runs per host count (after one converging run)")
    m.add_argument("--procs", type=int, default=1, help="simulator processes")
    m.add_argument("--modes", nargs="+", choices=lab.MODES, default=list(lab.MODES),
                   help="how celeryroot-play runs the play (default: both)")
    m.add_argument("--workdir", type=Path, default=Path("/var/cache/celeryroot-bench/sim"))
    opts = p.parse_args(argv)
    if opts.command == "serve":
        hosts = lab.host_names(opts.prefix, opts.hosts)
        sim = Simulator(opts.broker, hosts, opts.root, opts.procs)
        for proc in sim.procs:
            proc.start()
        try:
            for proc in sim.procs:
                proc.join()
        except KeyboardInterrupt:
            sim.stop()
        return 0
    measure(opts.hosts, opts.tasks, opts.runs, opts.procs, lab.fresh_dir(opts.workdir), opts.modes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
