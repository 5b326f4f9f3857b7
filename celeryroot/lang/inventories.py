"""Inventory sources as ``-i`` names them, merged into one `Inventory`.

A source is a YAML or INI file, a directory of such files, or a
comma-separated host list (``web1,web2,``). Several sources merge in order:
groups gather every source's hosts and children, and a later source's
variables win. Beside each source, ``group_vars/`` and ``host_vars/``
hold a file (``web.yml``, ``web.yaml``, ``web.json`` or ``web``) or a
directory of files per group or host; they outrank the inventory files'
own variables, as in Ansible (see `Inventory.host_vars`).
"""

from __future__ import annotations

from pathlib import Path

from .inventory import Inventory
from .inventory_ini import SECTION, add_ini
from .source import InputError, Where, expect_mapping, plain, read_text, warn, where
from .yamlread import load_yaml

YAML_SUFFIXES = (".yaml", ".yml", ".json")
VARS_SUFFIXES = ("", ".yml", ".yaml", ".json")
# Files in an inventory directory that are not inventories (Ansible's INVENTORY_IGNORE_EXTS).
IGNORED_SUFFIXES = (".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg",
                    ".retry")
VARS_DIRS = ("group_vars", "host_vars")


def load_inventory(sources: list[str]) -> Inventory:
    """One inventory out of ``sources``, in order, with their vars directories."""
    inv = Inventory(", ".join(sources) or "<no inventory>")
    directories: list[Path] = []
    for source in sources:
        directories += _add_source(inv, source)
    inv.finish()
    for directory in dict.fromkeys(directories):
        load_vars_dirs(inv, directory)
    if not inv.hosts:  # as Ansible: plays of 'all' then match nothing and are skipped
        warn(None, "provided hosts list is empty, only localhost is available. Note that the implicit localhost "
                   "does not match 'all'")
    return inv


def _add_source(inv: Inventory, source: str) -> list[Path]:
    """Add one source; return the directories whose vars dirs belong to it."""
    path = Path(source)
    if not path.exists():
        if "," not in source:
            raise InputError(Where(source), "inventory source not found (a file, a directory, "
                                            "or a host list such as 'web1,web2,')")
        for name in (n.strip() for n in source.split(",")):
            if name:
                inv.add_host("ungrouped", name, {}, Where(source))
        return []
    if path.is_file():
        add_file(inv, path)
        return [path.parent]
    for child in sorted(path.iterdir()):
        if child.name in VARS_DIRS or child.name.startswith(".") or child.name.endswith(IGNORED_SUFFIXES):
            continue
        _add_source(inv, str(child))
    return [path]


def add_file(inv: Inventory, path: Path) -> None:
    if is_yaml(path):
        inv.add_yaml(path)
    else:
        add_ini(inv, path)


def is_yaml(path: Path) -> bool:
    """By the extension, else by the first meaningful line: an INI file starts
    with a [section] or a host line, a YAML inventory with ``group:``."""
    if path.suffix in YAML_SUFFIXES:
        return True
    lines = read_text(path).splitlines()
    first = next((ln.strip() for ln in lines if ln.strip() and ln.strip()[0] not in "#;"), "")
    if SECTION.match(first):
        return False
    return first.startswith(("---", "{")) or first.endswith(":") or ": " in first


def load_vars_dirs(inv: Inventory, directory: str | Path) -> None:
    """Read ``group_vars/`` and ``host_vars/`` in ``directory`` for the
    inventory's groups and hosts; a later directory wins over an earlier
    one, so calling this for the playbook's directory after
    `load_inventory` ranks it above the inventory's, as Ansible does."""
    directory = Path(directory)
    for group in inv.groups.values():
        group.dir_vars.update(_vars_for(directory / "group_vars", group.name))
    for host in inv.hosts.values():
        host.dir_vars.update(_vars_for(directory / "host_vars", host.name))


def _vars_for(base: Path, name: str) -> dict:
    out: dict = {}
    if not base.is_dir():
        return out
    for suffix in VARS_SUFFIXES:
        candidate = base / (name + suffix)
        if candidate.is_file():
            out.update(_vars_file(candidate))
    folder = base / name
    if folder.is_dir():
        for file in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
            if file.suffix in VARS_SUFFIXES:
                out.update(_vars_file(file))
    return out


def _vars_file(path: Path) -> dict:
    node = load_yaml(path)
    return plain(expect_mapping(node, where(node, Where(str(path))), f"variables file {path}"))
