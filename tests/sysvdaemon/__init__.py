"""The SysV test daemon: a tiny TCP server (crtestd.py) under a real init
script (init.sh, start-stop-daemon with a pidfile), installed under any
service name with its own port."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
DAEMON = HERE / "crtestd.py"


def init_script(name: str) -> str:
    """init.sh for a service called ``name``."""
    script = (HERE / "init.sh").read_text()
    return script.replace("NAME=crtestd", f"NAME={name}").replace("Provides:          crtestd",
                                                                   f"Provides:          {name}")


def install(name: str, port: int) -> None:
    Path(f"/etc/default/{name}").write_text(f"PORT={port}\nDAEMON={DAEMON}\n")
    script = Path(f"/etc/init.d/{name}")
    script.write_text(init_script(name))
    script.chmod(0o755)


def uninstall(name: str) -> None:
    if os.path.exists(f"/etc/init.d/{name}"):
        subprocess.run(["service", name, "stop"], capture_output=True)
    subprocess.run(["update-rc.d", "-f", name, "remove"], capture_output=True)
    for path in (f"/etc/init.d/{name}", f"/etc/default/{name}"):
        if os.path.exists(path):
            os.unlink(path)


def answer(port: int) -> str:
    """The daemon's one line (``crtestd pid=… reloads=…``), or "" when nothing listens."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            return conn.makefile().readline().strip()
    except OSError:
        return ""
