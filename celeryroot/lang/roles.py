"""Roles: ``roles/NAME/{tasks,handlers,templates,files,defaults,vars,meta}/main.yml``.

A role is found where Ansible looks, in its order: ``roles/`` beside the
playbook, the roles path (``roles_path`` in celeryroot.yaml,
``CELERYROOT_ROLES_PATH`` or ``ANSIBLE_ROLES_PATH``), for a dependency the
directory of the role that depends on it, then the playbook's directory
itself; the name may be a path (``roles: ['../../']``, Galaxy's
tests/test.yml), joined to each of those. Loading a role gives its tasks (with the role's tags,
``when`` and parameters pushed in), adds its handlers to the play, and its
defaults and vars to the play's variable layers. Dependencies from
``meta/main`` come first; a role with the same parameters runs once a play.
"""

from __future__ import annotations

import os
from pathlib import Path

from .source import InputError, Where, expect_list, expect_mapping, item_where, plain, where
from .yamlread import load_yaml
from .tasks import BLOCK_KEYS, HANDLER_KEYS, Scope

#: A role entry's keywords: a block's (its tasks inherit them); any other
#: key is a role parameter. As in Ansible, ``connection``, ``port`` and
#: ``remote_user`` are both: roles take ``port`` as a parameter.
ROLE_ENTRY_KEYS = {"role"} | BLOCK_KEYS - {"block", "rescue", "always", "connection", "port", "remote_user"}
#: What makes a directory a role: at least one of these in it.
ROLE_FOLDERS = ("tasks", "handlers", "defaults", "vars", "meta")


class Roles:
    def __init__(self, playbook_dir: Path, roles_path: list[str]):
        env = os.environ.get("CELERYROOT_ROLES_PATH") or os.environ.get("ANSIBLE_ROLES_PATH") or ""
        self.roles_path = [*map(Path, roles_path), *[Path(p) for p in env.split(":") if p]]
        self.playbook_dir = playbook_dir
        #: Variable layers the play's roles contribute (defaults lowest, vars high).
        self.defaults: dict = {}
        self.vars: dict = {}
        self._seen: set = set()

    def fresh(self) -> "Roles":
        """The same search path, nothing loaded yet."""
        roles = Roles(self.playbook_dir, [])
        roles.roles_path = list(self.roles_path)
        return roles

    def find(self, name: str, at: Where, beside: Path | None = None) -> Path:
        """The role ``name`` (its dependent's directory ``beside``): the first
        of Ansible's places where the joined path exists, then ``name`` as a
        path of its own. Joining normalises, so ``roles/../../`` is the
        playbook's parent's directory whether ``roles/`` exists or not."""
        name = os.path.expanduser(name)
        places = [self.playbook_dir / "roles", *self.roles_path, *([beside] if beside else []), self.playbook_dir]
        for base in [*places, Path.cwd()]:
            path = Path(os.path.realpath(base / name))
            if path.exists():
                if not any((path / folder).is_dir() for folder in ROLE_FOLDERS):
                    raise InputError(at, f"role '{name}' is {path}, which is not a role: it has none of "
                                         f"{', '.join(f + '/' for f in ROLE_FOLDERS)}")
                return path
        raise InputError(at, f"role '{name}' not found (looked in {', '.join(str(p) for p in places)})")

    def entry(self, node, at: Where, scope: Scope, loader, beside: Path | None = None) -> list:
        """One item of a play's ``roles:`` list (or of a role's
        dependencies, ``beside`` that role): a name or a mapping with
        ``role``, ``tags``, ``when``, ``vars`` and role parameters."""
        if isinstance(node, str):
            return self.load(node, at, scope, loader=loader, beside=beside)
        node = expect_mapping(node, at, "a role entry")
        name = node.get("role", node.get("name"))
        if not isinstance(name, str):
            raise InputError(at, "a role entry needs 'role: NAME'")
        params = {str(k): plain(v) for k, v in node.items() if k not in ROLE_ENTRY_KEYS}
        inner = scope.inner(node)
        inner = Scope(inner.search, inner.tags, inner.when, {**inner.vars, **params}, inner.role, inner.overrides)
        return self.load(name, at, inner, loader=loader, beside=beside)

    def load(self, name: str, at: Where, scope: Scope, *, tasks_from: str = "main", loader,
             beside: Path | None = None) -> list:
        directory = self.find(name, at, beside)
        shown = name if tasks_from == "main" else f"{name} (tasks_from {tasks_from})"
        with loader.entering(("role", str(directory.resolve()), tasks_from), shown, at,
                             f"role '{name}' depends on itself"):
            return self._load(directory, scope, tasks_from, loader, at)

    def _load(self, directory: Path, scope: Scope, tasks_from: str, loader, at: Where) -> list:
        key = (str(directory.resolve()), tasks_from, repr(sorted(scope.vars.items())))
        if key in self._seen:
            return []
        self._seen.add(key)
        role_name = directory.name
        inner = Scope((str(directory.resolve()), str(self.playbook_dir.resolve())), scope.tags, scope.when,
                      scope.vars, role_name, scope.overrides)
        nodes = []
        meta = self._yaml(directory / "meta", "main")
        if meta is not None:
            meta_map = expect_mapping(meta, where(meta), f"meta of role '{role_name}'")
            deps = expect_list(meta_map.get("dependencies"), where(meta_map), "dependencies")
            for index, dep in enumerate(deps):
                nodes += self.entry(dep, item_where(deps, index), scope, loader, beside=directory.parent)
        for layer, folder in ((self.defaults, "defaults"), (self.vars, "vars")):
            data = self._yaml(directory / folder, "main")
            if data is not None:
                layer.update(plain(expect_mapping(data, where(data), f"{folder} of role '{role_name}'")))
        handlers = self._yaml(directory / "handlers", "main")
        if handlers is not None:
            loader.handlers += loader.tasks(handlers, where(handlers), inner, HANDLER_KEYS)
        tasks = self._yaml(directory / "tasks", tasks_from)
        if tasks is None and tasks_from != "main":
            raise InputError(at, f"role '{role_name}' has no tasks/{tasks_from}.yml")
        if tasks is not None:
            nodes += loader.tasks(tasks, where(tasks), inner)
        return nodes

    @staticmethod
    def _yaml(folder: Path, stem: str):
        for suffix in (".yml", ".yaml", ""):
            path = folder / f"{stem}{suffix}"
            if path.is_file():
                return load_yaml(path)
        return None
