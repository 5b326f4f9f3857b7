"""Finding module classes: built-ins, entry points, and module directories.

Built-ins live in ``celeryroot/modules/``, one file each. Installed packages
add modules through the ``celeryroot.modules`` entry-point group. A site's own
modules are ``*.py`` files in a directory of the modules path (the project's
``modules/`` beside the playbook for the controller, ``modules_path`` for a
worker); a later source overrides an earlier one of the same name.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from importlib.metadata import entry_points
from pathlib import Path

from . import modules as builtin_package
from .module import Module

ANSIBLE_PREFIXES = ("ansible.builtin.", "ansible.legacy.")


class Registry:
    def __init__(self, paths: tuple[str, ...] | list[str] = ()):
        self.paths = tuple(str(p) for p in paths)
        self._classes: dict[str, type[Module]] | None = None

    @property
    def classes(self) -> dict[str, type[Module]]:
        if self._classes is None:
            self._classes = {}
            self._load_builtins()
            self._load_entry_points()
            for path in self.paths:
                self._load_directory(Path(path))
        return self._classes

    def resolve(self, name: str) -> str:
        for prefix in ANSIBLE_PREFIXES:
            if name.startswith(prefix):
                return name[len(prefix):]
        return name

    def get(self, name: str) -> type[Module] | None:
        return self.classes.get(self.resolve(name))

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def names(self) -> list[str]:
        return sorted(self.classes)

    def _add_from(self, namespace: dict) -> None:
        for value in namespace.values():
            if (isinstance(value, type) and issubclass(value, Module)
                    and value is not Module and "name" in value.__dict__):
                self._classes[value.name] = value

    def _load_builtins(self) -> None:
        for info in pkgutil.iter_modules(builtin_package.__path__):
            mod = importlib.import_module(f"{builtin_package.__name__}.{info.name}")
            self._add_from(vars(mod))

    def _load_entry_points(self) -> None:
        for ep in entry_points(group="celeryroot.modules"):
            cls = ep.load()
            self._add_from({ep.name: cls})

    def _load_directory(self, directory: Path) -> None:
        if not directory.is_dir():
            return
        for file in sorted(directory.glob("*.py")):
            if file.name.startswith("_"):
                continue
            spec = importlib.util.spec_from_file_location(f"celeryroot_site_{file.stem}", file)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            self._add_from(vars(mod))
