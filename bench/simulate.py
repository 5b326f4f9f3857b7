"""A load simulator: thousands of celeryroot hosts from a few processes.

Not part of the product. Each simulated host has its own queue
(``celeryroot.host.NAME`` behind its own exchange, as ``messages.queue_for``
declares it), its own directory (the inventory's ``root``), its own
heartbeat key, its own identity from the fleet's PKI (``celeryroot pki
host NAME``), and runs the worker's own code for both of its tasks, as
worker/app.py's do: the message passes the worker's `Gate` (its envelope
opened with the host's `HostSeal`, its run's lease asked in Redis), then
``celeryroot.run`` runs ``runner.run_calls`` with a ``Registry``, and a
whole-play bundle (``celeryroot.play``) ``worker.bundle.run_bundle``, its
results batched by ``app.Progress`` into ``PROGRESS`` states. Replies are
what a real worker's backend (worker/replies.py) sends: ``STARTED``, any
``PROGRESS``, then ``SUCCESS`` (or ``FAILURE``), each signed by the host
and sealed to the controller, to the request's ``reply_to`` queue with
``correlation_id`` = task id, published by kombu, the reply queue's EXPIRE
after each.

What differs from real workers, on purpose: one process serves a slice of
hosts instead of one process each, and it pops messages with one Lua call
over a chunk of its queues (``SWEEP_CHUNK``, so memory is bounded however
many hosts it serves) instead of one BRPOP per message (kombu's Redis
consumer re-sends BRPOP with every queue key after each message, which is
O(hosts) per message). Like a worker (whose kombu runs without ack
emulation: config.py), it keeps no unacked bookkeeping in Redis. It writes
no audit log and has no module policy. Messages with a priority other than
0 (none are sent by celeryroot) and Celery's own expiry check are not
handled (the envelope's expiry is).

    python bench/simulate.py serve --broker URL --hosts 1000 --root DIR --pki DIR
    python bench/simulate.py measure --hosts 1000 10000 --tasks 10 [--modes bundles] [--before REV] [--runs 3]
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
from types import SimpleNamespace

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

#: Queues one sweep pops from: the simulator holds at most this many
#: messages at a time (one sweep over 5,000 queues held 5,000 bundles, 5.2 GB).
SWEEP_CHUNK = 200

#: Where the simulated fleet's CA and identities are kept between runs:
#: issuing one costs ~6 ms, 10,000 a minute.
PKI_DIR = Path("/var/cache/celeryroot-bench/sim-pki")


def fleet_pki(directory: Path, hosts: list[str]) -> float:
    """A CA, the controller's identity and one identity per host in
    ``directory`` (those already there are kept); seconds it took."""
    started = time.monotonic()
    fleet = lab.Pki(directory)
    for host in hosts:
        fleet.host(host)
    return time.monotonic() - started


class SimulatedHosts:
    """One process serving a slice of hosts until it is terminated."""

    def __init__(self, broker_url: str, hosts: list[str], root: Path, pki_dir: Path):
        import redis
        from kombu import Connection, Producer

        from celeryroot import pki
        from celeryroot.config import HEARTBEAT_TTL, heartbeat_key, host_queue
        from celeryroot.envelope import HostSeal
        from celeryroot.messages import queue_for
        from celeryroot.registry import Registry
        from celeryroot.worker.app import Gate, Leases

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
        # Each host's gate: its own identity and seal, the lease check every worker makes.
        leases = Leases(self.client)
        self.gates = {}
        for host in hosts:
            trust = pki.Trust(pki_dir / "hosts" / host)
            seal = HostSeal(pki.host_identity(pki_dir / "hosts" / host, trust, host), trust, host)
            self.gates[host_queue(host)] = Gate(seal, leases)
        self.ttl = HEARTBEAT_TTL
        self.heartbeat_keys = [heartbeat_key(h) for h in hosts]
        self.hostname = socket.gethostname()

    def serve(self) -> None:
        """Sweep the queues a chunk at a time, handling each chunk's messages
        before the next is popped, so at most ``SWEEP_CHUNK`` messages (each
        perhaps a whole-play bundle) are held at once however many hosts
        there are; block on one BRPOP only when every queue is empty."""
        threading.Thread(target=self._heartbeats, daemon=True).start()
        chunks = [self.keys[i:i + SWEEP_CHUNK] for i in range(0, len(self.keys), SWEEP_CHUNK)]
        while True:
            idle = True
            for keys in chunks:
                batch = self.sweep(keys=keys)
                if batch:
                    idle = False
                    self._handle([(batch[i].decode(), batch[i + 1]) for i in range(0, len(batch), 2)])
            if idle:
                got = self.client.brpop(self.keys, timeout=1)
                if got:
                    self._handle([(got[0].decode(), got[1])])

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
        for key, message, _ in messages:
            self._reply(key, message, "STARTED", {"pid": os.getpid(), "hostname": self.hostname})
        for key, message, _ in messages:
            try:
                self._reply(key, message, "SUCCESS", self._run(key, message))
            except Exception as exc:  # as Celery does: the task's exception is the answer
                self._reply(key, message, "FAILURE", {"exc_type": type(exc).__name__, "exc_message": [str(exc)],
                                                      "exc_module": type(exc).__module__})

    def _run(self, key: str, message) -> dict:
        """What the worker's task of that name returns (celeryroot/worker/app.py)."""
        from celeryroot.engine.runner import run_calls
        from celeryroot.envelope import Refused
        from celeryroot.messages import PLAY_TASK
        from celeryroot.worker.app import Progress
        from celeryroot.worker.bundle import run_bundle

        gate = self.gates[key]
        request = SimpleNamespace(id=message.headers["id"], task=message.headers["task"],
                                  reply_to=message.properties["reply_to"])
        try:
            opened = gate.admit(request, tuple(message.decode()[0]))
        except Refused as exc:
            return {"refused": f"refused: {exc}"}
        if request.task != PLAY_TASK:
            calls, overlay = opened
            return run_calls(self.registry, calls, overlay, gate.guard(request))
        progress = Progress(lambda events: self._reply(key, message, "PROGRESS", {"events": events}))
        try:
            return run_bundle(self.registry, opened[0], progress.emit, may_go=gate.may_go(request.id),
                              guard=gate.guard(request))
        finally:
            progress.flush()

    def _reply(self, key: str, message, status: str, result) -> None:
        """Celery's rpc backend message (backends/rpc.py store_result), its
        state and result sealed as worker/replies.py seals them."""
        from celeryroot.config import REPLY_TTL
        from celeryroot.envelope import SEALED

        seal = self.gates[key].seal
        task_id = message.headers["id"]
        done = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()) if status == "SUCCESS" else None
        reply_to = message.properties["reply_to"]
        self.producer.publish(
            {"status": SEALED, "result": seal.seal_reply(task_id, status, result), "traceback": None,
             "children": [], "date_done": done, "task_id": task_id},
            exchange="", routing_key=reply_to,
            correlation_id=message.properties.get("correlation_id") or task_id,
            serializer="json", delivery_mode=1)
        self.client.expire(reply_to, REPLY_TTL)
        if status in ("SUCCESS", "FAILURE"):
            seal.done(task_id)


def _serve_slice(broker_url: str, hosts: list[str], root: str, pki_dir: str) -> None:
    SimulatedHosts(broker_url, hosts, Path(root), Path(pki_dir)).serve()


class Simulator:
    """``procs`` processes, each serving an equal slice of ``hosts``."""

    def __init__(self, broker_url: str, hosts: list[str], root: Path, procs: int, pki_dir: Path):
        self.broker_url = broker_url
        self.hosts = hosts
        ctx = multiprocessing.get_context("spawn")
        self.procs = [ctx.Process(target=_serve_slice, args=(broker_url, hosts[i::procs], str(root), str(pki_dir)),
                                  daemon=True) for i in range(procs)]

    def start(self, redis: lab.RedisServer, timeout: float = 600) -> float:
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


class RedisMemory:
    """The server's ``used_memory`` sampled ten times a second while a run
    lasts: its peak, and its level before the run."""

    def __init__(self, client):
        self.client = client
        self.before = self._used()
        self.peak = self.before
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _used(self) -> int:
        return self.client.info("memory")["used_memory"]

    def _sample(self) -> None:
        while not self.stopped.wait(0.1):
            self.peak = max(self.peak, self._used())

    def stop(self) -> tuple[float, float]:
        """(peak MB, peak above the level before the run, MB)."""
        self.stopped.set()
        self.thread.join()
        return self.peak / 2**20, (self.peak - self.before) / 2**20


def measure(counts: list[int], tasks: int, runs: int, procs: int, workdir: Path, modes=lab.MODES,
            out=print, pki_dir: Path = PKI_DIR, before: str | None = None) -> list[dict]:
    """Controller and Redis at each host count, each mode on the same
    simulated fleet; a converging run first. With ``before`` (a git
    revision), each run of the working tree's controller follows one of
    that revision's, on the same fleet and under the same load."""
    rows = []
    issued = fleet_pki(pki_dir, lab.host_names("sim", max(counts)))
    out(f"  PKI of {max(counts)} simulated hosts in {pki_dir}: {issued:.1f} s to issue what was missing")
    envs = {"tree": None}
    if before:
        src = lab.export_revision(before, workdir / f"src-{before}")
        envs = {before: {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(src),
                                                                                  os.environ.get("PYTHONPATH")]))},
                **envs}
    redis = lab.start_redis(workdir)
    cwd = lab.mode_dirs(workdir)
    try:
        for count in counts:
            hosts = lab.host_names("sim", count)
            root = lab.fresh_dir(workdir / f"sim-{count}")
            playbook = lab.write_playbook(workdir / f"play-{tasks}.yaml", tasks)
            inventory = lab.write_inventory(workdir / f"inventory-{count}.yaml", hosts, root)
            sim = Simulator(redis.url, hosts, root, procs, pki_dir)
            up = sim.start(redis)
            try:
                argv = lab.play_argv(playbook, inventory, redis.url, "--timeout", "600", pki=pki_dir)
                converge = lab.timed(argv, cwd=cwd[modes[-1]])
                lab.play_stats(converge)
                for mode in modes:
                    for _ in range(runs):
                        for code, env in envs.items():
                            redis_before, sim_before = redis.cpu(), sim.cpu()
                            memory = RedisMemory(redis.client)
                            run = lab.timed(argv, env=env, cwd=cwd[mode])
                            redis_peak, redis_growth = memory.stop()
                            stats = lab.play_stats(run)
                            row = {"hosts": count, "tasks": tasks, "mode": mode, "code": code, "wall": run.wall,
                                   "controller_cpu": run.cpu, "controller_rss_mb": run.rss_mb,
                                   "redis_cpu": redis.cpu() - redis_before, "redis_peak_mb": redis_peak,
                                   "redis_growth_mb": redis_growth, "simulator_cpu": sim.cpu() - sim_before,
                                   "ok": stats["ok"], "changed": stats["changed"], "failed": stats["failed"],
                                   "unreachable": stats["unreachable"], "start": up,
                                   "converge_wall": converge.wall, "load": os.getloadavg()[0]}
                            rows.append(row)
                            out(format_row(row))
            finally:
                sim.stop()
                lab.forget(redis.client, hosts)
    finally:
        redis.stop()
    if runs > 1 or before:
        out("  medians:")
        for row in medians(rows):
            out(format_row(row))
    return rows


FIGURES = ("wall", "controller_cpu", "controller_rss_mb", "redis_cpu", "redis_peak_mb", "redis_growth_mb",
           "simulator_cpu", "load")


def medians(rows: list[dict]) -> list[dict]:
    """One row per (hosts, mode, code): the median of each figure."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["hosts"], row["mode"], row["code"]), []).append(row)
    return [{**same[-1], **{k: lab.median([r[k] for r in same]) for k in FIGURES}, "runs": len(same)}
            for same in groups.values()]


def format_row(row: dict) -> str:
    host_tasks = row["hosts"] * row["tasks"]
    runs = f" (median of {row['runs']})" if "runs" in row else ""
    return (f"  {row['hosts']:>5} simulated hosts x {row['tasks']} tasks, {row['mode']:<7} [{row['code']}]{runs}: "
            f"wall {row['wall']:6.2f} s, controller CPU {row['controller_cpu']:6.2f} s "
            f"({1000 * row['controller_cpu'] / host_tasks:.2f} ms per host-task), controller peak RSS "
            f"{row['controller_rss_mb']:.0f} MB, Redis CPU {row['redis_cpu']:5.2f} s "
            f"({1000 * row['redis_cpu'] / host_tasks:.2f} ms), Redis peak {row['redis_peak_mb']:.0f} MB "
            f"(+{row['redis_growth_mb']:.0f} MB in the run), simulator CPU {row['simulator_cpu']:5.2f} s; "
            f"ok={row['ok']} changed={row['changed']} failed={row['failed']} unreachable={row['unreachable']} "
            f"(load {row['load']:.1f}; fleet up in {row['start']:.1f} s, converging run {row['converge_wall']:.1f} s)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve simulated hosts on an existing broker until interrupted")
    serve.add_argument("--broker", required=True)
    serve.add_argument("--hosts", type=int, default=1000)
    serve.add_argument("--prefix", default="sim")
    serve.add_argument("--root", type=Path, required=True, help="each host works under ROOT/HOST")
    serve.add_argument("--procs", type=int, default=1)
    serve.add_argument("--pki", type=Path, default=PKI_DIR, help="the fleet's PKI (made or completed if needed)")
    m = sub.add_parser("measure", help="start Redis and the simulator; time celeryroot-play against them")
    m.add_argument("--hosts", type=int, nargs="+", default=[1000, 10000])
    m.add_argument("--tasks", type=int, default=10)
    m.add_argument("--runs", type=int, default=1, help="warm runs per host count (after one converging run)")
    m.add_argument("--procs", type=int, default=1, help="simulator processes")
    m.add_argument("--modes", nargs="+", choices=lab.MODES, default=list(lab.MODES),
                   help="how celeryroot-play runs the play (default: both)")
    m.add_argument("--workdir", type=Path, default=Path("/var/cache/celeryroot-bench/sim"))
    m.add_argument("--pki", type=Path, default=PKI_DIR, help="the fleet's PKI, kept between runs")
    m.add_argument("--before", default=None, metavar="REV",
                   help="also time celeryroot-play as of this git revision, run for run beside the working tree's")
    opts = p.parse_args(argv)
    if opts.command == "serve":
        hosts = lab.host_names(opts.prefix, opts.hosts)
        fleet_pki(opts.pki, hosts)
        sim = Simulator(opts.broker, hosts, opts.root, opts.procs, opts.pki)
        for proc in sim.procs:
            proc.start()
        try:
            for proc in sim.procs:
                proc.join()
        except KeyboardInterrupt:
            sim.stop()
        return 0
    measure(opts.hosts, opts.tasks, opts.runs, opts.procs, lab.fresh_dir(opts.workdir), opts.modes,
            pki_dir=opts.pki, before=opts.before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
