"""The Jinja2 filters and tests Ansible users reach for, by Ansible's names.

Jinja2's own filters (``default``/``d``, ``int``, ``join``, ``map``,
``select``, ``selectattr``, ``unique``, …) are kept as they are; these are
Ansible's additions, with Ansible's arguments and results.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os.path
import re
import shlex
import time
import uuid
from collections.abc import Mapping
from io import StringIO

from jinja2 import Undefined
from jinja2.exceptions import FilterArgumentError, UndefinedError

from ..module import boolean
from .deferred import Deferred

UUID_NAMESPACE = uuid.UUID("361E6D51-FAEC-444A-9079-341386DA8E2E")  # Ansible's, so to_uuid agrees


def to_bool(value):
    """Ansible's ``bool``: its boolean words (any case); None stays None and
    anything else is false, as ansible-core still coerces it."""
    return None if value is None else boolean(value, strict=False)


def _flags(ignorecase: bool, multiline: bool) -> int:
    return (re.I if ignorecase else 0) | (re.M if multiline else 0)


def regex_replace(value, pattern, replacement="", ignorecase=False, multiline=False, count=0):
    return re.sub(pattern, replacement, str(value), count=count, flags=_flags(ignorecase, multiline))


def regex_search(value, pattern, *groups, ignorecase=False, multiline=False):
    """The match, or with ``'\\\\1'``/``'\\\\g<name>'`` arguments a list of those groups."""
    match = re.search(pattern, str(value), _flags(ignorecase, multiline))
    if not match:
        return None
    if not groups:
        return match.group(0)
    names = [int(g[1:]) if g[1:].isdigit() else g[3:-1] for g in groups]
    return [match.group(n) for n in names]


def regex_findall(value, pattern, ignorecase=False, multiline=False):
    return re.findall(pattern, str(value), _flags(ignorecase, multiline))


def combine(*dicts, recursive=False, list_merge="replace"):
    """Later mappings win; ``recursive`` merges nested ones; ``list_merge``
    is replace, keep, append, prepend, append_rp or prepend_rp."""
    if list_merge not in ("replace", "keep", "append", "prepend", "append_rp", "prepend_rp"):
        raise FilterArgumentError(f"combine: list_merge must be one of replace, keep, append, prepend, "
                                  f"append_rp, prepend_rp; got {list_merge!r}")
    out: dict = {}
    for d in dicts:
        for item in (d if isinstance(d, list) else [d]):
            out = _merge(out, item, recursive, list_merge)
    return out


def _merge(a: dict, b: dict, recursive: bool, list_merge: str) -> dict:
    out = dict(a)
    for key, value in b.items():
        old = out.get(key)
        if recursive and isinstance(value, Mapping) and isinstance(old, Mapping):
            out[key] = _merge(old, value, True, list_merge)
        elif isinstance(value, list) and isinstance(old, list) and list_merge != "replace":
            out[key] = _merge_lists(old, value, list_merge)
        else:
            out[key] = value
    return out


def _merge_lists(old: list, new: list, how: str) -> list:
    if how == "keep":
        return old
    if how == "append":
        return old + new
    if how == "prepend":
        return new + old
    if how == "append_rp":  # the old items not in new, then new
        return [x for x in old if x not in new] + new
    return new + [x for x in old if x not in new]


def dict2items(value, key_name="key", value_name="value"):
    if not isinstance(value, Mapping):
        raise FilterArgumentError(f"dict2items requires a dictionary, got {type(value).__name__}")
    return [{key_name: k, value_name: v} for k, v in value.items()]


def items2dict(value, key_name="key", value_name="value"):
    return {item[key_name]: item[value_name] for item in value}


def mandatory(value, msg=None):
    if isinstance(value, Undefined):
        raise UndefinedError(msg or f"Mandatory variable {value._undefined_name!r} not defined.")
    return value


def ternary(value, true_value, false_value, none_value=None):
    if value is None and none_value is not None:
        return none_value
    return true_value if value else false_value


def flatten(value, levels=None, skip_nulls=True):
    out = []
    for item in value:
        if skip_nulls and item in (None, "None", "null"):
            continue
        if isinstance(item, (list, tuple)) and levels != 0:
            out.extend(flatten(item, None if levels is None else levels - 1, skip_nulls))
        else:
            out.append(item)
    return out


def _unique(items) -> list:
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def extract(item, container, morekeys=None):
    """``groups.web | map('extract', hostvars, 'ansible_host')``."""
    value = container[item]
    for key in ([] if morekeys is None else morekeys if isinstance(morekeys, list) else [morekeys]):
        value = value[key]
    return value


def to_yaml(value, indent=2, default_flow_style=None, sort_keys=True, width=80, **_):
    """YAML 1.1 text, as PyYAML writes it for Ansible (so ``'yes'`` stays quoted)."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 1)  # quote what a YAML 1.1 reader would take for a boolean
    yaml.default_flow_style = default_flow_style
    yaml.sort_base_mapping_type_on_output = sort_keys
    yaml.width = width
    yaml.indent(mapping=indent, sequence=2, offset=0)  # PyYAML's layout: "- item" under its key
    out = StringIO()
    yaml.dump(value, out)
    return out.getvalue().removeprefix("%YAML 1.1\n---\n")


def from_yaml(text):
    """YAML as playbooks are read (source.py): 1.1 whatever the text's own
    ``---`` or ``%YAML`` says, with PyYAML's booleans."""
    from ruamel.yaml import YAML

    from .source import AnsibleResolver

    yaml = YAML(typ="safe", pure=True)
    yaml.Resolver = AnsibleResolver
    return yaml.load(str(text))


def strftime(fmt, second=None, utc=False):
    when = time.time() if second is None else float(second)
    return time.strftime(fmt, time.gmtime(when) if utc else time.localtime(when))


def hash_filter(value, algorithm="sha1"):
    return hashlib.new(algorithm, str(value).encode()).hexdigest()


FILTERS = {
    "bool": to_bool,
    "ternary": ternary,
    "to_json": lambda v, **kw: json.dumps(v, **kw),
    "to_nice_json": lambda v, indent=4, **kw: json.dumps(v, indent=indent, sort_keys=True, **kw),
    "from_json": json.loads,
    "to_yaml": to_yaml,
    "to_nice_yaml": lambda v, indent=4, **kw: to_yaml(v, indent=indent, default_flow_style=False, **kw),
    "from_yaml": from_yaml,
    "regex_replace": regex_replace,
    "regex_search": regex_search,
    "regex_findall": regex_findall,
    "regex_escape": lambda v: re.escape(str(v)),
    "combine": combine,
    "dict2items": dict2items,
    "items2dict": items2dict,
    "flatten": flatten,
    "union": lambda a, b: _unique(list(a) + list(b)),
    "intersect": lambda a, b: _unique([x for x in a if x in b]),
    "difference": lambda a, b: _unique([x for x in a if x not in b]),
    "symmetric_difference": lambda a, b: _unique([x for x in a if x not in b] + [x for x in b if x not in a]),
    "zip": lambda *lists: [list(t) for t in zip(*lists)],
    "product": lambda *lists: [list(t) for t in itertools.product(*lists)],
    "extract": extract,
    "basename": os.path.basename,
    "dirname": os.path.dirname,
    "splitext": lambda v: list(os.path.splitext(v)),
    "realpath": os.path.realpath,
    "expanduser": os.path.expanduser,
    "path_join": lambda parts: os.path.join(*parts) if isinstance(parts, (list, tuple)) else str(parts),
    "quote": lambda v: shlex.quote(str(v)),
    "b64encode": lambda v, encoding="utf-8": base64.b64encode(str(v).encode(encoding)).decode(encoding),
    "b64decode": lambda v, encoding="utf-8": base64.b64decode(str(v)).decode(encoding),
    "hash": hash_filter,
    "checksum": hash_filter,
    "md5": lambda v: hash_filter(v, "md5"),
    "sha1": hash_filter,
    "to_uuid": lambda v, namespace=UUID_NAMESPACE: str(uuid.uuid5(uuid.UUID(str(namespace)), str(v))),
    "mandatory": mandatory,
    "split": lambda v, sep=None, maxsplit=-1: str(v).split(sep, maxsplit),
    "strftime": strftime,
    "type_debug": lambda v: type(v).__name__,
}


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
        return bool(res.get(name))
    return value_of


def version(value, other, operator="eq", strict=False, version_type=None):
    """``ansible_distribution_version is version('12', '>=')``. As in Ansible,
    versions compare loosely by default (numbers as numbers, words as
    words: Debian's ``1.2-3+deb12u1`` too); ``version_type='pep440'`` is
    PEP 440's order (the packaging library's), ``'strict'`` (or
    ``strict=True``) allows only N.N[.N][aN|bN]."""
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


def _pep440(v):
    from packaging.version import InvalidVersion, Version

    try:
        return Version(str(v))
    except InvalidVersion:
        raise ValueError(f"{v!r} is not a PEP 440 version") from None


VERSION_KEYS = {"loose": _loose, "strict": _strict, "pep440": _pep440}


failed, changed, skipped, unreachable = (_result(n) for n in ("failed", "changed", "skipped", "unreachable"))

TESTS = {
    "changed": changed, "change": changed,
    "failed": failed, "failure": failed,
    "skipped": skipped, "skip": skipped,
    "succeeded": lambda r: not failed(r), "success": lambda r: not failed(r),
    "successful": lambda r: not failed(r),
    "unreachable": unreachable, "reachable": lambda r: not unreachable(r),
    "match": lambda v, p, ignorecase=False, multiline=False: re.match(p, str(v), _flags(ignorecase, multiline))
    is not None,
    "search": lambda v, p, ignorecase=False, multiline=False: re.search(p, str(v), _flags(ignorecase, multiline))
    is not None,
    "regex": lambda v, p, ignorecase=False, multiline=False: re.search(p, str(v), _flags(ignorecase, multiline))
    is not None,
    "version": version, "version_compare": version,
    "subset": lambda a, b: all(x in b for x in a),
    "superset": lambda a, b: all(x in a for x in b),
    "contains": lambda seq, x: x in seq,
    "truthy": lambda v, convert_bool=False: bool(to_bool(v) if convert_bool else v),
    "falsy": lambda v, convert_bool=False: not (to_bool(v) if convert_bool else v),
    "exists": lambda p: os.path.exists(os.path.expanduser(p)),
    "file": os.path.isfile, "is_file": os.path.isfile,
    "directory": os.path.isdir, "is_dir": os.path.isdir,
    "link": os.path.islink, "is_link": os.path.islink,
    "abs": os.path.isabs, "is_abs": os.path.isabs,
}
