"""The controller's side of a module that needs it (fetch), in a whole-play bundle.

Linearly, the controller prepares such a module's calls against its own
files (fetch's checksum of its copy) and acts on each result as it comes
back (``Module.on_controller_result``: fetch writes the file). A bundle
runs the play on its host, so before it is sent the controller looks at
the place each such task acts on (``Module.controller_place``, named by an
argument known before the run: execution.py sees to it) and sends the
checksums of its files there (`copies`); on the host, the calls see them
(`Carrier.seen`), and what their results carry for the controller is taken
out and sent home with the bundle's answer (`Carrier.carry`), where the
controller acts on it (`act_home`), within those places alone: a host
cannot name another file of the controller's.
"""

from __future__ import annotations

import os

from jinja2 import UndefinedError

from ..host.fileops import checksum
from ..lang.templating import TemplateFailure, render
from ..module import build_args, to_wire
from ..result import FOR_CONTROLLER
from .codec import homeward


def places(tasks, registry, host: str, variables: dict) -> list[str]:
    """The controller's places the play's tasks of such a module act on for
    ``host``, their `comes_home` arguments rendered with its variables (one
    that does not render fails its task when it runs, as linearly)."""
    found = set()
    for task in tasks:
        cls = registry.get(task.module)
        if cls is None or not cls.comes_home:
            continue
        try:
            named = render({k: task.args[k] for k in cls.comes_home if k in task.args}, variables)
        except (TemplateFailure, UndefinedError):
            continue
        found.add(cls.controller_place(named, host, task.search))
    return sorted(found)


def copies(where: list[str]) -> dict[str, str]:
    """The checksum of every file in those places (a file, or a folder's tree)."""
    files = []
    for place in where:
        if os.path.isdir(place):
            files += [os.path.join(top, name) for top, _, names in os.walk(place) for name in names]
        elif os.path.isfile(place):
            files.append(place)
    out = {}
    for path in files:
        try:
            with open(path, "rb") as fh:
                out[os.path.normpath(path)] = checksum(fh.read())
        except OSError:
            continue  # unreadable here: the copy counts as absent, and is written again
    return out


class Carrier:
    """Inside a bundle: the checksums the controller sent (by its paths),
    and what the results carry home, in order."""

    def __init__(self, checksums: dict[str, str], mapping: dict[str, str]):
        self.checksums = checksums
        #: The controller's folders and their copies here (codec.unpack_sources).
        self.mapping = mapping
        self.carried: list[dict] = []

    def seen(self, cls, args):
        """A call's arguments with the controller's files as it has them."""
        return cls.in_bundle(args, lambda path: self.checksums.get(homeward(path, self.mapping)))

    def carry(self, cls, args, res: dict) -> dict:
        """The result without what it carries for the controller, kept to go home."""
        res = dict(res)
        carried = res.pop(FOR_CONTROLLER, None)
        if carried is not None and not res.get("failed"):
            self.carried.append({"module": cls.name, "args": homeward(to_wire(args), self.mapping),
                                 "carried": carried})
        return res


def act_home(registry, carried: list[dict], where: list[str]) -> list[str]:
    """On the controller, a bundle's answer arrived: each result it carries
    acted on (fetch's files written) if it acts within ``where``, the
    places sent with the bundle. Returns what failed, each as a sentence."""
    failures = []
    for entry in carried:
        cls = registry.get(str(entry.get("module")))
        if cls is None or not cls.comes_home:
            failures.append(f"the answer carries a result of {entry.get('module')!r}, which the controller does not act on")
            continue
        args = build_args(cls.Args, entry.get("args") or {})
        target = os.path.normpath(cls.acts_on(args))
        if not any(target == place or os.path.commonpath([place, target]) == place for place in where):
            failures.append(f"{cls.name}: {target} is outside the places its tasks write to ({', '.join(where)})")
            continue
        res = cls.on_controller_result(args, {"failed": False, FOR_CONTROLLER: entry.get("carried")})
        if res.get("failed"):
            failures.append(f"{cls.name}: {res.get('msg')}")
    return failures
