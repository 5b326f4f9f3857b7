"""include_vars: variables from YAML/JSON files on the controller, for the host."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

from ..lang.files import candidates, find_source
from ..lang.source import InputError, Where, expect_mapping, plain, where
from ..lang.yamlread import load_yaml
from ..module import ArgError, Module, Plan, arg, regex

EXTENSIONS = ["json", "yaml", "yml"]


class IncludeVars(Module):
    """Load variables from a YAML or JSON file (or every file of a directory)
    on the controller, for the host, above task vars and below ``set_fact``
    and registered results, for the rest of the run.

    A relative ``file`` is looked up in ``vars/`` beside the role or the
    playbook, then beside it; a relative ``dir`` is in a role's ``vars/``,
    else beside the playbook. The file is read where the task runs:
    when its name is known from play and extra variables the run checks it
    before any host is contacted; a name made of facts or results is found
    when the task runs. ``dir`` reads the files in name order, deeper
    folders after (``depth`` 1 is the folder itself, 0 every level), those
    whose name matches ``files_matching``; ``name`` puts them all under one
    variable.

    Example:
        - include_vars: "{{ ansible_os_family }}.yml"
        - include_vars:
            dir: vars/site
            files_matching: "\\\\.yml$"
            name: site
    """

    name = "include_vars"
    on_controller = True
    free_form = "file"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        file: str | None = arg(None, aliases=("_raw_params",), doc="A YAML or JSON file of variables.")
        dir: str | None = arg(None, doc="A directory whose files are loaded, in name order.")
        name: str | None = arg(None, doc="Put the loaded variables under this one variable.")
        depth: int = arg(0, doc="With dir: how many levels of folders to read (1: the folder itself; 0: all).")
        files_matching: str | None = arg(None, convert=regex, doc="With dir: only files whose name matches.")
        ignore_files: list[str] = arg([], doc="With dir: file names to leave out (regular expressions, matched at "
                                         "the end of the name).")
        extensions: list[str] = arg(list(EXTENSIONS), doc="The file name extensions that may be loaded.")
        ignore_unknown_extensions: bool = arg(False, doc="With dir: leave out files of other extensions "
                                                         "instead of failing.")
        _vars: dict | None = arg(None, doc="Set by the controller: the variables read.")
        _files: list[str] = arg([], doc="Set by the controller: the files read, in order.")

        def check(self) -> None:
            if self.file is not None and self.dir is not None:
                raise ArgError("dir", "parameters are mutually exclusive: 'file', 'dir'")
            if self.file is None and self.dir is None:
                raise ArgError("file", "one of 'file' or 'dir' is required")

    @classmethod
    def fact_names(cls, raw_args: dict, search: tuple[str, ...] = ()) -> set[str]:
        """The variables it may set, for preflight: ``name``; else the keys of
        the files it names, and where a name is a template, of every file
        in the ``vars/`` folders it could come from."""
        if isinstance(raw_args.get("name"), str):
            return {raw_args["name"]}
        paths = named_files(raw_args, search)
        if paths is None:
            paths = [p for d in search for p in _files_under(os.path.join(d, "vars"))]
        names: set[str] = set()
        for path in paths:
            try:
                data = load_yaml(path)
            except InputError:
                continue  # the task itself says what is wrong with it
            if isinstance(data, dict):
                names |= {str(k) for k in data}
        return names

    @classmethod
    def on_controller_prepare(cls, args: Args, variables: dict, search: tuple[str, ...]) -> Args:
        if args.file is not None:
            files = [find_source(args.file, search, "vars", "file")]  # any extension, as Ansible
        else:
            files = _dir_files(args, search)
        loaded: dict = {}
        for path in files:
            try:
                data = load_yaml(path)
            except InputError as exc:
                raise ArgError("file" if args.file is not None else "dir", str(exc)) from None
            if data is None:
                continue
            try:
                loaded.update(plain(expect_mapping(data, where(data, Where(path)), f"vars file {path}")))
            except InputError as exc:
                raise ArgError("file" if args.file is not None else "dir", str(exc)) from None
        return replace(args, _vars=loaded, _files=files)

    def plan(self) -> Plan:
        loaded = self.args._vars or {}
        facts = {self.args.name: loaded} if self.args.name else loaded
        return Plan(reason=", ".join(self.args._files), data={"ansible_facts": facts,
                                                              "ansible_included_var_files": self.args._files})


def named_files(raw_args: dict, search: tuple[str, ...]) -> list[str] | None:
    """The files a task with these arguments (as written) may read, as far
    as they exist; None when its file or dir is named by a template, so
    known only when the task runs."""
    name = raw_args.get("file", raw_args.get("_raw_params"))
    if isinstance(name, str) and "{" not in name:
        return [p for p in candidates(name, search, "vars") if os.path.isfile(p)][:1]
    name = raw_args.get("dir")
    if isinstance(name, str) and "{" not in name:
        return _files_under(_dir_path(name, search))
    return None


def _files_under(path: str) -> list[str]:
    if os.path.isfile(path):
        return [path]
    return [os.path.join(root, f) for root, _, files in sorted(os.walk(path)) for f in sorted(files)]


def _dir_path(name: str, search: tuple[str, ...]) -> str:
    """Where ``dir`` is, as Ansible has it: in a role (whose tasks look in the
    role's directory, then the playbook's) under the role's ``vars/``
    unless it starts with ``vars/``; else beside the playbook."""
    name = os.path.expanduser(name)
    if os.path.isabs(name) or not search:
        return name
    in_role = len(search) > 1 and name.split("/")[0] != "vars"
    return os.path.join(search[0], "vars", name) if in_role else os.path.join(search[0], name)


def _dir_files(args, search: tuple[str, ...]) -> list[str]:
    """The files of ``dir`` as Ansible reads them: folder by folder in
    name order, each folder's files in name order."""
    top = _dir_path(args.dir, search)
    if not os.path.isdir(top):
        raise ArgError("dir", f"argument 'dir': {top} directory does not exist")
    ignored = [re.compile(f"{pattern}$") for pattern in args.ignore_files]
    out = []
    for root, _, files in sorted(os.walk(top, followlinks=True), key=lambda walked: walked[0]):
        depth = len(os.path.relpath(root, top).split(os.sep)) if root != top else 0
        if args.depth and depth >= args.depth:
            continue
        for name in sorted(files):
            if args.files_matching is not None and not re.search(args.files_matching, name):
                continue
            if any(p.search(name) for p in ignored):
                continue
            path = os.path.join(root, name)
            if args.ignore_unknown_extensions and not _known_extension(path, args.extensions):
                continue
            _check_extension(path, args.extensions)
            out.append(path)
    return out


def _known_extension(path: str, extensions: list) -> bool:
    return os.path.splitext(path)[1][1:] in extensions


def _check_extension(path: str, extensions: list) -> None:
    if not _known_extension(path, extensions):
        raise ArgError("file", f"{path} does not have a valid extension: {', '.join(extensions)}")
