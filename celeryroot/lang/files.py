"""Controller-side files found as Ansible finds them: for each directory of
the search path (a role's, then the playbook's), ``DIR/SUBDIR/NAME`` before
``DIR/NAME``. Imports look in ``tasks/``, copy and the file lookup in
``files/``, template and its lookup in ``templates/``."""

from __future__ import annotations

import os

from ..module import ArgError


def candidates(name: str, search: tuple[str, ...], subdir: str) -> list[str]:
    """Where ``name`` is looked for, most specific first; an absolute name
    (``~`` and ``~user`` are the controller's) is itself."""
    name = os.path.expanduser(name)
    if os.path.isabs(name):
        return [name]
    return list(dict.fromkeys(os.path.join(d, where, name) for d in search for where in (subdir, "")))


def find(name: str, search: tuple[str, ...], subdir: str) -> str | None:
    return next((path for path in candidates(name, search, subdir) if os.path.isfile(path)), None)


def find_source(name: str, search: tuple[str, ...], subdir: str, arg_name: str) -> str:
    """``find``, or an `ArgError` on ``arg_name`` saying where it looked."""
    path = find(name, search, subdir)
    if path is None:
        looked = ", ".join(candidates(name, search, subdir)) or name
        raise ArgError(arg_name, f"argument '{arg_name}': could not find or access '{name}' (looked in: {looked})")
    return path
