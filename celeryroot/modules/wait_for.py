"""wait_for: wait, on the host, for a port, a file or some time."""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import sys
import time
from dataclasses import dataclass

from ..module import ArgError, Module, ModuleFailure, Plan, arg, regex

#: /proc/net/tcp's connection states by their hexadecimal codes.
TCP_STATES = {"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
              "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN",
              "0B": "CLOSING"}


class WaitFor(Module):
    """Wait on the host until a condition holds, or fail after ``timeout``
    seconds (counted from the start, ``delay`` included).

    With ``port``: until ``host`` accepts connections on it (``started``,
    the default; with ``search_regex``, until what it sends matches), until
    it refuses them (``stopped``), or until no connection to the port is
    active any more (``drained``, from /proc/net/tcp; ``exclude_hosts``
    does not count). With ``path``: until the file is there (``present``
    or ``started``; with ``search_regex``, until its text matches) or gone
    (``absent``). With neither, it just waits ``timeout``
    seconds. The condition is checked every ``sleep`` seconds. The worker
    is busy for as long as it waits. Never changes anything; in check mode
    it waits too.

    Returns ``elapsed`` (whole seconds) and, with ``search_regex``,
    ``match_groups`` and ``match_groupdict``.

    Example:
        - wait_for: port=8080 timeout=60
        - wait_for:
            path: /var/log/app/start.log
            search_regex: "listening on (?P<addr>\\\\S+)"
        - wait_for: port=5432 state=drained exclude_hosts=10.0.0.9
    """

    name = "wait_for"
    as_user = True

    @dataclass(frozen=True, kw_only=True)
    class Args:
        host: str = arg("127.0.0.1", doc="Address or name to connect to (with port).")
        port: int | None = arg(None, doc="TCP port to wait for.")
        path: str | None = arg(None, host_path=True, doc="File to wait for.")
        state: str = arg("started", choices=("started", "stopped", "present", "absent", "drained"),
                         doc="What to wait for: started/stopped (a port, or a file present/absent), "
                             "present/absent (a file), drained (no active connection to port).")
        search_regex: str | None = arg(None, convert=regex, doc="Regular expression the file's text, or what "
                                                                 "the port sends, must match.")
        timeout: int = arg(300, doc="Seconds to wait at most.")
        delay: int = arg(0, doc="Seconds to wait before the first check.")
        sleep: int = arg(1, doc="Seconds between checks.")
        connect_timeout: int = arg(5, doc="Seconds one connection attempt may take.")
        exclude_hosts: list[str] | None = arg(None, doc="Remote addresses whose connections drained ignores.")
        active_connection_states: list[str] = arg(
            ["ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "SYN_RECV", "SYN_SENT", "TIME_WAIT"],
            doc="The connection states drained counts as active.")
        msg: str | None = arg(None, doc="Message on failure instead of the default.")

        def check(self) -> None:
            if self.port is not None and self.path is not None:
                raise ArgError("path", "parameters are mutually exclusive: 'port'|'path'")
            if self.path is not None and self.state in ("stopped", "drained"):
                raise ArgError("state", f"argument 'state': state={self.state} should only be used for checking "
                                        "a port in the wait_for module")
            if self.exclude_hosts is not None and self.state != "drained":
                raise ArgError("exclude_hosts", "argument 'exclude_hosts' should only be with state=drained")
            if self.search_regex is not None and self.state in ("stopped", "absent", "drained"):
                raise ArgError("search_regex", f"argument 'search_regex' cannot be used with state={self.state}")

    def plan(self) -> Plan:
        a = self.args
        start = time.monotonic()
        time.sleep(a.delay)
        waiting = self.condition()
        if waiting is None:
            time.sleep(max(0.0, start + a.timeout - time.monotonic()))
            return Plan(reason=f"waited {a.timeout} s", data=self.data(start, None))
        check, what = waiting
        while True:
            found = check(start + a.timeout)
            if found is not None:
                return Plan(reason=f"{what}: done", data=self.data(start, found))
            left = start + a.timeout - time.monotonic()
            if left <= 0:
                raise ModuleFailure(a.msg or f"Timeout when waiting for {what}",
                                    elapsed=int(time.monotonic() - start))
            time.sleep(min(a.sleep, left))

    def condition(self):
        """The check to repeat (it returns a match, True, or None to go on) and what it waits for."""
        a = self.args
        if a.path is not None:
            if a.state == "absent":
                return (lambda end: None if os.path.lexists(a.path) else True), f"{a.path} to be absent."
            what = f"search string {a.search_regex} in {a.path}" if a.search_regex else f"file {a.path}"
            return self.file_matches, what
        if a.port is None:
            return None
        where = f"{a.host}:{a.port}"
        if a.state == "drained":
            return (lambda end: None if self.active_connections() else True), f"{where} to drain"
        if a.state in ("stopped", "absent"):
            return self.refused, f"{where} to stop."
        what = f"search string {a.search_regex} in {where}" if a.search_regex else where
        return self.port_matches, what

    def file_matches(self, end: float):
        a = self.args
        if not a.search_regex:
            return True if os.path.exists(a.path) else None
        try:
            with open(a.path, "rb") as fh:
                text = fh.read().decode("utf-8", "surrogateescape")
        except OSError:
            return None
        return re.search(a.search_regex, text, re.MULTILINE)

    def refused(self, end: float):
        conn = self.connect(end)
        if conn is None:
            return True
        conn.close()
        return None

    def connect(self, end: float) -> socket.socket | None:
        wait = max(0.1, min(self.args.connect_timeout, end - time.monotonic()))
        try:
            return socket.create_connection((self.args.host, self.args.port), timeout=wait)
        except OSError:
            return None

    def port_matches(self, end: float):
        conn = self.connect(end)
        if conn is None:
            return None
        with conn:
            if not self.args.search_regex:
                return True
            received = b""
            while (left := end - time.monotonic()) > 0:
                conn.settimeout(left)
                try:
                    chunk = conn.recv(4096)
                except OSError:
                    return None
                if not chunk:
                    return None
                received += chunk
                found = re.search(self.args.search_regex, received.decode("utf-8", "replace"), re.MULTILINE)
                if found:
                    return found
        return None

    def active_connections(self) -> list[str]:
        """Remote addresses of the active connections to our port (/proc/net/tcp and tcp6)."""
        a = self.args
        excluded = {ipaddress.ip_address(h) for h in a.exclude_hosts or ()}
        active = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as fh:
                    rows = fh.read().splitlines()[1:]
            except FileNotFoundError:
                continue
            for row in rows:
                local, remote, state = row.split()[1:4]
                if int(local.rsplit(":", 1)[1], 16) != a.port:
                    continue
                address = _proc_address(remote.rsplit(":", 1)[0])
                if TCP_STATES.get(state) in a.active_connection_states and address not in excluded:
                    active.append(str(address))
        return active

    def data(self, start: float, found) -> dict:
        a = self.args
        match = found if isinstance(found, re.Match) else None
        return {"elapsed": int(time.monotonic() - start), "state": a.state, "port": a.port, "path": a.path,
                "search_regex": a.search_regex, "match_groups": list(match.groups()) if match else [],
                "match_groupdict": match.groupdict() if match else {}}


def _proc_address(hexed: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address as /proc/net/tcp writes it: 32-bit words in host byte order."""
    raw = bytes.fromhex(hexed)
    words = raw if sys.byteorder == "big" else b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(words)
    return address.ipv4_mapped or address if isinstance(address, ipaddress.IPv6Address) else address
