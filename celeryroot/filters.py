"""The Jinja2 filters and tests Ansible users reach for, by Ansible's names."""

from __future__ import annotations

import base64
import json
import os.path
import re
import shlex
from io import StringIO

from jinja2 import Undefined
from jinja2.exceptions import UndefinedError


def to_bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("yes", "on", "1", "true", "y")
    return bool(value)


def regex_replace(value, pattern, replacement="", ignorecase=False, multiline=False, count=0):
    flags = (re.I if ignorecase else 0) | (re.M if multiline else 0)
    return re.sub(pattern, replacement, str(value), count=count, flags=flags)


def regex_search(value, pattern, *groups, ignorecase=False, multiline=False):
    flags = (re.I if ignorecase else 0) | (re.M if multiline else 0)
    match = re.search(pattern, str(value), flags)
    if not match:
        return None
    if groups:
        return [match.group(int(g[1:]) if g.startswith("\\") else g) for g in groups]
    return match.group(0)


def combine(*dicts, recursive=False, list_merge="replace"):
    out: dict = {}
    for d in dicts:
        for item in (d if isinstance(d, list) else [d]):
            out = _merge(out, item, recursive)
    return out


def _merge(a: dict, b: dict, recursive: bool) -> dict:
    out = dict(a)
    for key, value in b.items():
        if recursive and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value, True)
        else:
            out[key] = value
    return out


def dict2items(value, key_name="key", value_name="value"):
    return [{key_name: k, value_name: v} for k, v in value.items()]


def items2dict(value, key_name="key", value_name="value"):
    return {item[key_name]: item[value_name] for item in value}


def mandatory(value, msg=None):
    if isinstance(value, Undefined):
        raise UndefinedError(msg or f"Mandatory variable {value._undefined_name!r} not defined.")
    return value


def to_yaml(value, indent=2, **_):
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.indent(mapping=indent, sequence=indent + 2, offset=indent)
    out = StringIO()
    yaml.dump(value, out)
    return out.getvalue()


def _result_test(key):
    def test(value):
        return isinstance(value, dict) and bool(value.get(key))
    return test


def succeeded(value) -> bool:
    return isinstance(value, dict) and not value.get("failed")


FILTERS = {
    "bool": to_bool,
    "to_json": lambda v, **kw: json.dumps(v, **kw),
    "to_nice_json": lambda v, indent=4, **kw: json.dumps(v, indent=indent, sort_keys=True, **kw),
    "from_json": json.loads,
    "to_yaml": to_yaml,
    "to_nice_yaml": to_yaml,
    "regex_replace": regex_replace,
    "regex_search": regex_search,
    "combine": combine,
    "dict2items": dict2items,
    "items2dict": items2dict,
    "basename": os.path.basename,
    "dirname": os.path.dirname,
    "quote": lambda v: shlex.quote(str(v)),
    "b64encode": lambda v: base64.b64encode(str(v).encode()).decode(),
    "b64decode": lambda v: base64.b64decode(str(v)).decode(),
    "mandatory": mandatory,
    "split": lambda v, sep=None, maxsplit=-1: str(v).split(sep, maxsplit),
}

TESTS = {
    "changed": _result_test("changed"),
    "failed": _result_test("failed"),
    "skipped": _result_test("skipped"),
    "succeeded": succeeded,
    "success": succeeded,
    "match": lambda v, p: re.match(p, str(v)) is not None,
    "search": lambda v, p: re.search(p, str(v)) is not None,
    "regex": lambda v, p: re.search(p, str(v)) is not None,
    "exists": os.path.exists,
    "abs": os.path.isabs,
}


def install(env) -> None:
    env.filters.update(FILTERS)
    env.tests.update(TESTS)
