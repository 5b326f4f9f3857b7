"""Finding module classes: built-ins, entry points, and module directories.

Built-ins live in ``celeryroot/modules/``, one file each. Installed packages
add modules through the ``celeryroot.modules`` entry-point group. A site's own
modules are ``*.py`` files in a directory of the modules path (the project's
``modules/`` beside the playbook for the controller, ``modules_path`` for a
worker); a later source overrides an earlier one of the same name.

A built-in may answer to a second name (`ALIASES`): the name resolves to
the module's own, so a task, ``module_defaults`` and a worker's policy all
see one module under either name.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from importlib.metadata import entry_points
from pathlib import Path

from .module import Module

ANSIBLE_PREFIXES = ("ansible.builtin.", "ansible.legacy.")
#: Modules of other collections that are built in here, by their full names
#: (only these: ``community.general.copy`` is no module of Ansible's).
COLLECTION_NAMES = {"community.general.ini_file": "ini_file", "ansible.posix.sysctl": "sysctl"}
#: Other names of built-ins. Ansible 2.14 renamed systemd to systemd_service
#: and kept the old name; both are the one module here.
ALIASES = {"systemd_service": "systemd"}
#: The built-in modules, named rather than imported: the registry sits
#: below every room that uses it, the modules above the language they use.
BUILTIN_PACKAGE = __package__ + ".modules"
BUILTIN_DIR = Path(__file__).with_name("modules")


class Registry:
    """Module classes by name. A built-in is imported when first asked for
    (its file is named after it), so a run imports only the modules it uses;
    ``classes`` and ``names()`` load everything, for listings and hints."""

    def __init__(self, paths: tuple[str, ...] | list[str] = ()):
        self.paths = tuple(str(p) for p in paths)
        self._classes: dict[str, type[Module]] | None = None
        self._site: dict[str, type[Module]] | None = None
        self._builtin: dict[str, type[Module] | None] = {}

    @property
    def classes(self) -> dict[str, type[Module]]:
        if self._classes is None:
            self._classes = {}
            for info in pkgutil.iter_modules([str(BUILTIN_DIR)]):
                self._classes.update(_defined_in(vars(_import_builtin(info.name))))
            self._classes.update(self.site)
        return self._classes

    @property
    def site(self) -> dict[str, type[Module]]:
        """Entry points, then the modules path: they override built-ins."""
        if self._site is None:
            self._site = {}
            for ep in entry_points(group="celeryroot.modules"):
                self._site.update(_defined_in({ep.name: ep.load()}))
            for path in self.paths:
                self._site.update(_load_directory(Path(path)))
        return self._site

    def resolve(self, name: str) -> str:
        """A module's own name for ``name`` (an FQCN or an alias); a site
        module of an alias's name is that site module."""
        if name in COLLECTION_NAMES:
            return COLLECTION_NAMES[name]
        for prefix in ANSIBLE_PREFIXES:
            if name.startswith(prefix):
                name = name[len(prefix):]
                break
        if name in ALIASES and name not in self.site:
            return ALIASES[name]
        return name

    def get(self, name: str) -> type[Module] | None:
        name = self.resolve(name)
        if name in self.site:
            return self.site[name]
        if name not in self._builtin:
            module = _import_builtin(name) if name.isidentifier() else None
            self._builtin[name] = _defined_in(vars(module)).get(name) if module else None
        return self._builtin[name]

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def names(self) -> list[str]:
        """Every module's name and every alias of a built-in."""
        return sorted({*self.classes, *ALIASES})


def _import_builtin(name: str):
    try:
        return importlib.import_module(f"{BUILTIN_PACKAGE}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{BUILTIN_PACKAGE}.{name}":
            raise
        return None


def _defined_in(namespace: dict) -> dict[str, type[Module]]:
    return {value.name: value for value in namespace.values()
            if isinstance(value, type) and issubclass(value, Module) and value is not Module
            and "name" in value.__dict__}


def _load_directory(directory: Path) -> dict[str, type[Module]]:
    found: dict[str, type[Module]] = {}
    if not directory.is_dir():
        return found
    for file in sorted(directory.glob("*.py")):
        if file.name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(f"celeryroot_site_{file.stem}", file)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        found.update(_defined_in(vars(mod)))
    return found
