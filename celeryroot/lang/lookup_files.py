"""Lookups that read the controller's files or run its commands: file,
template, fileglob, first_found, csvfile, ini, lines, pipe and password.

A relative name is looked up, as in Ansible, in each directory of
``ansible_search_path`` (a role's directory, then the playbook's; the step
sets it per task), under ``files/`` (``templates/`` for template) first and
then directly; without it, beside ``playbook_dir``, else in the working
directory. Commands (pipe, lines) run in the playbook's directory, and a
password file's relative path is the playbook directory's, as in Ansible.
"""

from __future__ import annotations

import configparser
import csv
import glob
import io
import os
import random
import re
import shlex
import string
import subprocess
import tempfile

from jinja2.exceptions import TemplateRuntimeError

from .files import candidates, find


def search_path(context) -> tuple[str, ...]:
    dirs = context.get("ansible_search_path")
    if isinstance(dirs, str):
        return (dirs,)
    if dirs:
        return tuple(str(d) for d in dirs)
    return (_base(context),)


def _base(context) -> str:
    return str(context.get("playbook_dir") or os.getcwd())


def _find(context, name: str, subdir: str) -> str:
    path = find(str(name), search_path(context), subdir)
    if path is None:
        looked = ", ".join(candidates(str(name), search_path(context), subdir))
        raise TemplateRuntimeError(f"could not find or access '{name}' (looked in: {looked})")
    return path


def _file(context, terms, lstrip=False, rstrip=True) -> list[str]:
    out = []
    for term in terms:
        with open(_find(context, term, "files"), encoding="utf-8") as fh:
            text = fh.read()
        text = text.rstrip() if rstrip else text
        out.append(text.lstrip() if lstrip else text)
    return out


def _template(context, terms, template_vars=None) -> list[str]:
    variables = {**context.get_all(), **(template_vars or {})}
    return [context.environment.render_file(_find(context, term, "templates"), variables, search_path(context))
            for term in terms]


def _fileglob(context, terms) -> list[str]:
    """Each pattern's files in the first directory of the search path (its
    ``files/`` first) where it matches any."""
    out = []
    for term in map(str, terms):
        folder, pattern = os.path.split(term)
        dirs = candidates(folder, search_path(context), "files")
        if folder:  # as Ansible: only the first directory of that name
            dirs = [d for d in dirs if os.path.isdir(d)][:1]
        for directory in dirs:
            found = [p for p in glob.glob(os.path.join(glob.escape(directory), pattern)) if os.path.isfile(p)]
            if found:
                out.extend(found)
                break
    return out


def _first_found(context, terms, files=(), paths=(), skip=False, subdir="") -> list[str]:
    """The first file that exists of the names given (strings, lists, or
    mappings of ``files`` and ``paths``). ``subdir`` is where ``with_first_found``
    looks first (Ansible's choice by module: ``templates/`` for template, else ``files/``)."""
    names = _candidate_names(list(terms) or [{"files": files, "paths": paths}], files, paths)
    for name in names:
        path = find(os.path.expanduser(name), search_path(context), subdir)
        if path is not None:
            return [os.path.normpath(os.path.abspath(path))]
    if skip or any(isinstance(t, dict) and _truthy(t.get("skip")) for t in terms):
        return []
    raise TemplateRuntimeError(f"first_found: none of these files was found: {', '.join(names)}")


def _candidate_names(terms: list, files, paths) -> list[str]:
    out: list[str] = []
    for term in terms:
        if isinstance(term, dict):
            unknown = set(term) - {"files", "paths", "skip"}
            if unknown:
                raise TemplateRuntimeError(f"first_found: unknown option '{sorted(unknown)[0]}' "
                                           "(expected files, paths, skip)")
            names, dirs = _split(term.get("files", files), ",;"), _split(term.get("paths", paths), ",:;")
            out.extend(os.path.join(d, n) for d in dirs for n in names) if dirs else out.extend(names)
        elif isinstance(term, str):
            out.append(term)
        elif isinstance(term, (list, tuple)):
            out.extend(_candidate_names(list(term), files, paths))
        else:
            raise TemplateRuntimeError(f"first_found: a term must be a string, a list or a mapping, not "
                                       f"{type(term).__name__}")
    return out


def _split(value, separators: str) -> list[str]:
    """Ansible still splits ``files: a,b`` and ``paths: x:y`` into lists."""
    if isinstance(value, str):
        for sep in separators[1:]:
            value = value.replace(sep, separators[0])
        return [v for v in value.split(separators[0]) if v]
    return [n for v in value or () for n in _split(v, separators)]


def _truthy(value) -> bool:
    return str(value).lower() in ("true", "yes", "on", "1")


def _inline(term: str, allowed: dict) -> tuple[str, dict]:
    """``KEY opt=value …`` (the old inline form of csvfile and ini): the key and the options."""
    words = shlex.split(str(term))
    options = {}
    key = []
    for word in words:
        name, sep, value = word.partition("=")
        if sep and name in allowed:
            options[name] = value
        elif sep and name.isidentifier():
            raise TemplateRuntimeError(f"'{name}' is not an option (expected one of: {', '.join(sorted(allowed))})")
        else:
            key.append(word)
    if not key:
        raise TemplateRuntimeError(f"no key to look up in '{term}'")
    return " ".join(key), options


def _csvfile(context, terms, **options) -> list:
    defaults = {"file": "ansible.csv", "delimiter": "TAB", "col": 1, "keycol": 0, "default": None,
                "encoding": "utf-8"}
    _check_options(options, defaults)
    if not terms:
        raise TemplateRuntimeError("csvfile: a key to look up is required")
    out = []
    for term in terms:
        key, inline = _inline(term, defaults)
        opts = {**defaults, **options, **inline}
        delimiter = "\t" if opts["delimiter"] == "TAB" else str(opts["delimiter"])
        value = opts["default"]
        with open(_find(context, opts["file"], "files"), encoding=opts["encoding"], newline="") as fh:
            for row in csv.reader(fh, dialect=csv.excel, delimiter=delimiter):
                if row and row[int(opts["keycol"])] == key:
                    value = row[int(opts["col"])]
                    break
        if value is not None:
            out.append(value)
    return out


def _ini(context, terms, **options) -> list:
    defaults = {"file": "ansible.ini", "section": "global", "re": False, "type": "ini", "default": "",
                "encoding": "utf-8", "case_sensitive": False, "allow_no_value": False, "allow_none": False,
                "interpolation": True}
    _check_options(options, defaults)
    out = []
    for term in terms:
        key, inline = _inline(term, defaults)
        opts = {**defaults, **options, **inline}
        parser = configparser.ConfigParser(allow_no_value=_truthy(opts["allow_no_value"]) or
                                           _truthy(opts["allow_none"]),
                                           interpolation=configparser.BasicInterpolation()
                                           if _truthy(opts["interpolation"]) else None)
        if _truthy(opts["case_sensitive"]):
            parser.optionxform = str
        with open(_find(context, opts["file"], "files"), encoding=opts["encoding"]) as fh:
            text = fh.read()
        section = opts["section"]
        if opts["type"] == "properties":
            text, section = "[java_properties]\n" + text, "java_properties"
        parser.read_file(io.StringIO(text))
        if not parser.has_section(section):
            raise TemplateRuntimeError(f"ini: no section '{section}' in {opts['file']}")
        if _truthy(opts["re"]):
            out.extend(v for k, v in parser.items(section) if re.match(key, k))
        elif parser.has_option(section, key):
            out.append(parser.get(section, key))
        elif opts["default"] is not None:
            out.append(opts["default"])
    return out


def _check_options(options: dict, defaults: dict) -> None:
    unknown = set(options) - set(defaults)
    if unknown:
        raise TypeError(f"unexpected keyword argument '{sorted(unknown)[0]}'")


def _run(context, command, lookup: str) -> str:
    proc = subprocess.run(str(command), shell=True, cwd=_base(context), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        raise TemplateRuntimeError(f"lookup_plugin.{lookup}({command}) returned {proc.returncode}")
    return proc.stdout.decode("utf-8", errors="replace")


def _pipe(context, terms) -> list[str]:
    return [_run(context, term, "pipe").rstrip() for term in terms]


def _lines(context, terms) -> list[str]:
    return [line for term in terms for line in _run(context, term, "lines").splitlines()]


PASSWORD_OPTIONS = {"length": 20, "chars": None, "seed": None, "encrypt": None, "ident": None}


def _password(context, terms, **options) -> list[str]:
    """A password kept in a file on the controller: made (random, from
    ``chars``) and written there, mode 0600, the first time; read after.
    ``/dev/null`` keeps none: each lookup makes a new one."""
    _check_options(options, PASSWORD_OPTIONS)
    out = []
    for term in terms:
        path, inline = _password_term(str(term))
        opts = {**PASSWORD_OPTIONS, **options, **inline}
        if opts["encrypt"] or opts["ident"]:
            raise TemplateRuntimeError("password: celeryroot keeps passwords in clear only (no encrypt or "
                                       "ident); hash one with the password_hash filter")
        path = os.path.join(_base(context), os.path.expanduser(path))
        if path == os.devnull:  # a new password each time, kept nowhere
            out.append(_generate(opts))
        else:
            out.append(_stored(path) if os.path.exists(path) else _create(path, _generate(opts)))
    return out


def _password_term(term: str) -> tuple[str, dict]:
    path, _, rest = term.partition(" ")
    options = {}
    for word in shlex.split(rest):
        name, sep, value = word.partition("=")
        if not sep or name not in PASSWORD_OPTIONS:
            raise TemplateRuntimeError(f"password: unrecognized parameter '{word}' (expected "
                                       f"{', '.join(PASSWORD_OPTIONS)})")
        options[name] = value
    return path, options


def _generate(opts: dict) -> str:
    chars = opts["chars"] or ["ascii_letters", "digits", ".,:-_"]
    if isinstance(chars, str):
        chars = [",", *(c for c in chars.replace(",,", ",").split(",") if c)] if ",," in chars else \
            [c for c in chars.split(",") if c]
    pool = "".join(getattr(string, c, c) if c.isidentifier() else c for c in chars).replace('"', "").replace("'", "")
    if not pool:
        raise TemplateRuntimeError("password: no characters to choose from")
    chooser = random.Random(opts["seed"]) if opts["seed"] is not None else random.SystemRandom()
    return "".join(chooser.choice(pool) for _ in range(int(opts["length"])))


def _stored(path: str) -> str:
    """The password in a file (without the ``salt=`` Ansible may keep beside it)."""
    with open(path, encoding="utf-8") as fh:
        content = fh.read().rstrip()
    return content.rsplit(" salt=", 1)[0] if " salt=" in content else content


def _create(path: str, password: str) -> str:
    """Write the new file whole, or keep a password someone wrote first:
    ``os.link`` creates the name only if nobody has."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".password-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(password + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _stored(path)
    finally:
        os.unlink(temporary)
    return password


LOOKUPS = {"file": _file, "template": _template, "fileglob": _fileglob, "first_found": _first_found,
           "csvfile": _csvfile, "ini": _ini, "pipe": _pipe, "lines": _lines, "password": _password}
