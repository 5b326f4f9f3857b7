"""Ansible's Jinja2 tests (``x is changed``, ``path is file``,
``v is version('12', '>=')``); Jinja's own (``string``, ``mapping``,
``number``, …) are kept as they are."""

from __future__ import annotations

import math
import os.path
import re
from collections.abc import Mapping
from urllib.parse import urlparse

from jinja2.exceptions import FilterArgumentError

from ..deferred import Deferred
from .impure import impure
from .strings import flags, to_bool

VAULT_HEADER = "$ANSIBLE_VAULT;"


def _result(name: str):
    """Ansible's task-result tests: they take a registered result (a mapping)."""
    def value_of(res) -> bool:
        if isinstance(res, Deferred):  # a result the pre-run check cannot know yet
            return False
        if not isinstance(res, Mapping):
            raise FilterArgumentError(f"the '{name}' test expects a registered result (a dictionary), "
                                      f"got {type(res).__name__}")
        if name == "changed" and "changed" not in res:
            return any(r.get("changed") for r in res.get("results") or [] if isinstance(r, Mapping))
        if name in ("finished", "started") and name not in res:
            return True  # a task that was not async has finished, as Ansible says
        if name == "timedout":
            return bool(res.get("timedout") and res["timedout"].get("period"))
        return bool(res.get(name))
    return value_of


failed, changed, skipped, unreachable, finished, started, timedout = (
    _result(n) for n in ("failed", "changed", "skipped", "unreachable", "finished", "started", "timedout"))


def succeeded(res) -> bool:
    return not failed(res)


def reachable(res) -> bool:
    return not unreachable(res)


def regex(value, pattern, ignorecase=False, multiline=False, match_type="search"):
    if match_type not in ("match", "search", "fullmatch"):
        raise FilterArgumentError(f"regex: match_type must be match, search or fullmatch, got {match_type!r}")
    return getattr(re, match_type)(pattern, str(value), flags(ignorecase, multiline)) is not None


def version(value, other, operator="eq", strict=False, version_type=None):
    """``ansible_distribution_version is version('12', '>=')``. As in Ansible,
    versions compare loosely by default (numbers as numbers, words as
    words: Debian's ``1.2-3+deb12u1`` too); ``version_type='pep440'`` is
    PEP 440's order (the packaging library's), ``'semver'`` Semantic
    Versioning's, ``'strict'`` (or ``strict=True``) allows only
    N.N[.N][aN|bN]."""
    ops = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "=": "eq", "!=": "ne", "<>": "ne"}
    op = ops.get(operator, operator)
    compare = {"lt": lambda a, b: a < b, "le": lambda a, b: a <= b, "gt": lambda a, b: a > b,
               "ge": lambda a, b: a >= b, "eq": lambda a, b: a == b, "ne": lambda a, b: a != b}
    if op not in compare:
        raise FilterArgumentError(f"version: invalid operator {operator!r}")
    kind = version_type or ("strict" if strict else "loose")
    if kind not in VERSION_KEYS:
        raise FilterArgumentError(f"version: version_type must be one of {', '.join(VERSION_KEYS)}, got {kind!r}")
    try:
        return compare[op](VERSION_KEYS[kind](value), VERSION_KEYS[kind](other))
    except ValueError as exc:
        raise FilterArgumentError(f"version: {exc}") from None


def _loose(v) -> list:
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.findall(r"\d+|[a-z]+", str(v).lower())]


def _strict(v) -> list:
    if not re.fullmatch(r"\d+(\.\d+){0,2}([ab]\d+)?", str(v)):
        raise ValueError(f"{v!r} is not a strict version")
    return _loose(v)


_SEMVER = re.compile(r"(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?")


def _semver(v) -> tuple:
    """Semantic Versioning 2.0's precedence: a pre-release comes before its
    release, its fields compare as numbers or words; build metadata is ignored."""
    match = _SEMVER.fullmatch(str(v))
    if not match:
        raise ValueError(f"invalid semantic version {str(v)!r}")
    release = tuple(int(match.group(n)) for n in (1, 2, 3))
    pre = match.group(4)
    if pre is None:
        return release, (1,)
    return release, (0, *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))


def _pep440(v):
    from packaging.version import InvalidVersion, Version

    try:
        return Version(str(v))
    except InvalidVersion:
        raise ValueError(f"{v!r} is not a PEP 440 version") from None


VERSION_KEYS = {"loose": _loose, "strict": _strict, "semver": _semver, "semantic": _semver, "pep440": _pep440}


def uri(value, schemes=None) -> bool:
    try:
        return not schemes or urlparse(value).scheme in schemes
    except (TypeError, ValueError, AttributeError):
        return False


def url(value, schemes=None) -> bool:
    return uri(value, schemes) and bool(urlparse(value).netloc or urlparse(value).scheme == "file")


def vaulted_file(path) -> bool:
    try:
        with open(os.path.expanduser(path), "rb") as f:
            return f.read(len(VAULT_HEADER)) == VAULT_HEADER.encode()
    except OSError:
        return False


TESTS = {
    "changed": changed, "change": changed, "failed": failed, "failure": failed,
    "skipped": skipped, "skip": skipped, "succeeded": succeeded, "success": succeeded, "successful": succeeded,
    "unreachable": unreachable, "reachable": reachable,
    "finished": finished, "started": started, "timedout": timedout,
    "match": lambda v, p, ignorecase=False, multiline=False: regex(v, p, ignorecase, multiline, "match"),
    "search": lambda v, p, ignorecase=False, multiline=False: regex(v, p, ignorecase, multiline),
    "regex": regex,
    "version": version, "version_compare": version,
    "subset": lambda a, b: all(x in b for x in a), "issubset": lambda a, b: all(x in b for x in a),
    "superset": lambda a, b: all(x in a for x in b), "issuperset": lambda a, b: all(x in a for x in b),
    "contains": lambda seq, x: x in seq,
    "any": any, "all": all,
    "truthy": lambda v, convert_bool=False: bool(to_bool(v) if convert_bool else v),
    "falsy": lambda v, convert_bool=False: not (to_bool(v) if convert_bool else v),
    "nan": lambda v: isinstance(v, float) and math.isnan(v), "isnan": lambda v: isinstance(v, float) and math.isnan(v),
    "abs": os.path.isabs, "is_abs": os.path.isabs,
    "uri": uri, "url": url, "urn": lambda v: uri(v, ["urn"]),
    "vault_encrypted": lambda v: isinstance(v, str) and v.startswith(VAULT_HEADER),
}

#: The tests of the controller's files, as they are when the test runs.
FILE_TESTS = {
    "exists": lambda p: os.path.exists(os.path.expanduser(p)),
    "file": os.path.isfile, "is_file": os.path.isfile, "directory": os.path.isdir, "is_dir": os.path.isdir,
    "link": os.path.islink, "is_link": os.path.islink, "link_exists": os.path.lexists,
    "mount": os.path.ismount, "is_mount": os.path.ismount,
    "same_file": os.path.samefile, "is_same_file": os.path.samefile, "vaulted_file": vaulted_file,
}
TESTS.update({name: impure(test) for name, test in FILE_TESTS.items()})
