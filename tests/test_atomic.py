"""A worker killed with SIGKILL while it rewrites a file never leaves it
truncated or empty: the file is always exactly the old or the new content."""

from __future__ import annotations

import glob
import os
import random
import signal
import subprocess
import sys
import time

from conftest import controller_env, wait_for, write

SIZE = 32 << 20  # large enough that a write takes a good share of each task's time
BUDGET = 20.0  # seconds of killing
WANTED_HITS = 3  # kills that landed while a temp file was being written


def _playbook(tmp_path, rounds: int = 40):
    tasks = "".join(f"    - copy: src={{{{ root }}}}/{'ab'[i % 2]} remote_src=yes dest={{{{ root }}}}/big\n"
                    for i in range(rounds))
    return write(tmp_path / "rewrite.yaml", f"- hosts: atomic\n  gather_facts: false\n  tasks:\n{tasks}")


def test_sigkill_during_rewrites_leaves_old_or_new_content(redis_server, workers, tmp_path):
    root = tmp_path / "host"
    root.mkdir()
    versions = {b"A" * (SIZE - 1) + b"\n", b"B" * (SIZE - 2) + b"\n\n"}
    for name, data in zip("ab", sorted(versions)):
        (root / name).write_bytes(data)
    (root / "big").write_bytes(sorted(versions)[0])
    inventory = write(tmp_path / "inv.yaml", f"all:\n  hosts:\n    atomic:\n      root: {root}\n")
    book = _playbook(tmp_path)
    env = controller_env(redis_server.url)
    rng = random.Random(7)
    kills = hits = 0
    started = time.monotonic()
    while time.monotonic() - started < BUDGET and (hits < WANTED_HITS or kills < 6):
        workers.start("atomic")
        run = subprocess.Popen([sys.executable, "-m", "celeryroot.cli.play", str(book), "-i", str(inventory)],
                               cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Every other kill waits for a write to be under way, then strikes
        # a little later; the others strike at any moment of the run.
        if kills % 2 == 0:
            wait_for(lambda: glob.glob(str(root / ".big.*.tmp")), 20, "a rewrite to start", every=0.001)
            time.sleep(rng.uniform(0, 0.03))
        else:
            time.sleep(rng.uniform(0.8, 2.5))
        workers.signal("atomic", signal.SIGKILL)
        workers.kill("atomic")
        run.kill()
        run.wait(10)
        kills += 1
        content = (root / "big").read_bytes()
        assert content in versions, f"kill {kills}: big is {len(content)} bytes, neither version"
        leftovers = glob.glob(str(root / ".big.*.tmp"))
        hits += bool(leftovers)
        for path in leftovers:  # what a killed writer leaves beside the file, never in its place
            os.unlink(path)
    assert hits >= 1, f"none of {kills} kills landed during a write; the test proved nothing"
