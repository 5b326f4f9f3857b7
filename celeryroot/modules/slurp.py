"""slurp: a file's bytes from the host, base64-encoded, as Ansible returns them."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from ..module import Module, ModuleFailure, Plan, arg

#: The content travels back inside the reply, so a file is kept small.
MAX_SIZE = 16 << 20


class Slurp(Module):
    """Read a file on the host and return its content base64-encoded
    (``content``, with ``encoding: base64`` and ``source``); decode it with
    the ``b64decode`` filter. The file travels inside the reply, so it may
    be at most 16 MiB. Never changes anything.

    Example:
        - slurp: src=/etc/machine-id
          register: machine
        - debug: msg="{{ machine.content | b64decode }}"
    """

    name = "slurp"
    as_user = True

    @dataclass(frozen=True, kw_only=True)
    class Args:
        src: str = arg(aliases=("path",), host_path=True, doc="The file to read.")

    def plan(self) -> Plan:
        src = self.args.src
        if os.path.isdir(src):
            raise ModuleFailure(f"source is a directory and must be a file: {src}")
        try:
            with open(src, "rb") as fh:
                data = fh.read(MAX_SIZE + 1)
        except FileNotFoundError:
            raise ModuleFailure(f"file not found: {src}") from None
        except PermissionError:
            raise ModuleFailure(f"file is not readable: {src}") from None
        if len(data) > MAX_SIZE:
            raise ModuleFailure(f"{src} is larger than {MAX_SIZE >> 20} MiB; slurp returns it inside the reply")
        return Plan(reason=f"{len(data)} bytes read",
                    data={"content": base64.b64encode(data).decode("ascii"), "encoding": "base64", "source": src})
