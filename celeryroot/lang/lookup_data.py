"""Lookups of data the run already has: lists, mappings, variables, the
inventory's host names, the controller's environment. Each takes the
template's context and the terms, and returns a list (see lookups.py)."""

from __future__ import annotations

import itertools
import os
import re
import secrets
from collections.abc import Mapping

from jinja2.exceptions import TemplateRuntimeError

from .inventory import Inventory
from .source import InputError


def flatten_once(terms) -> list:
    """The terms with each list among them spliced in (``with_items``)."""
    out = []
    for term in terms:
        out.extend(term if isinstance(term, (list, tuple)) else [term])
    return out


def _flatten_all(terms) -> list:
    out = []
    for term in terms:
        out.extend(_flatten_all(term) if isinstance(term, (list, tuple)) else [term])
    return out


def _items(context, terms) -> list:
    return flatten_once(terms)


def _list(context, terms) -> list:
    return list(terms)


def _flattened(context, terms) -> list:
    return _flatten_all(terms)


def _dict(context, terms) -> list:
    out = []
    for term in terms:
        if not isinstance(term, Mapping):
            raise TemplateRuntimeError(f"the dict lookup expects a mapping, got {term!r}")
        out.extend({"key": key, "value": value} for key, value in term.items())
    return out


def _indexed_items(context, terms) -> list:
    return [[index, item] for index, item in enumerate(flatten_once(terms))]


def _nested(context, terms) -> list:
    if not terms:
        raise TemplateRuntimeError("with_nested needs at least one list")
    return [flatten_once(combination) for combination in itertools.product(*(_as_list(t) for t in terms))]


def _together(context, terms) -> list:
    if not terms:
        raise TemplateRuntimeError("with_together needs at least one list")
    return [flatten_once(group) for group in itertools.zip_longest(*(_as_list(t) for t in terms))]


def _as_list(term) -> list:
    return list(term) if isinstance(term, (list, tuple)) else [term]


def _random_choice(context, terms) -> list:
    return [secrets.choice(list(terms))] if terms else []


def _subelements(context, terms) -> list:
    """``[list_or_mapping, 'key.subkey', {skip_missing: bool}]`` → ``[element, subelement]`` pairs."""
    if not 2 <= len(terms) <= 3 or not isinstance(terms[0], (list, dict)) or not isinstance(terms[1], str):
        raise TemplateRuntimeError("subelements expects a list or mapping, the name of a key, and optionally "
                                   "{'skip_missing': true}")
    flags = terms[2] if len(terms) == 3 else {}
    if not isinstance(flags, dict) or set(flags) - {"skip_missing"}:
        raise TemplateRuntimeError(f"subelements: the third term may only be {{'skip_missing': BOOL}}, got {flags!r}")
    if isinstance(terms[0], dict) and terms[0].get("skipped", False) is not False:
        return []  # a registered result that was skipped as a whole
    elements = list(terms[0].values()) if isinstance(terms[0], dict) else terms[0]
    skip_missing = str(flags.get("skip_missing", False)).lower() in ("true", "yes", "on", "1")
    out = []
    for element in elements:
        if not isinstance(element, dict):
            raise TemplateRuntimeError(f"subelements expects mappings, got {element!r}")
        if element.get("skipped", False) is not False:
            continue
        path = terms[1].split(".")
        values = _subkey(element, path, skip_missing)
        if values:
            element = _without(element, path)
        out.extend([element, value] for value in values)
    return out


def _without(element: dict, path: list[str]) -> dict:
    """The element as Ansible pairs it: without the list it was paired by."""
    if len(path) == 1:
        return {k: v for k, v in element.items() if k != path[0]}
    return {**element, path[0]: _without(element[path[0]], path[1:])}


def _subkey(element: dict, path: list[str], skip_missing: bool) -> list:
    value = element
    for depth, key in enumerate(path):
        last = depth == len(path) - 1
        if not isinstance(value, dict) or key not in value:
            if skip_missing:
                return []
            raise TemplateRuntimeError(f"subelements: could not find '{key}' key in iterated item {value!r}")
        value = value[key]
        if not last and not isinstance(value, dict) and not skip_missing:
            raise TemplateRuntimeError(f"subelements: the key {key} should point to a mapping, got {value!r}")
    if not isinstance(value, list):
        raise TemplateRuntimeError(f"subelements: the key {path[-1]} should point to a list, got {value!r}")
    return value


#: ``[start-]end[/stride][:format]``; numbers in decimal or 0x hexadecimal.
_NUMBER = r"(0[xX][0-9a-fA-F]+|[0-9]+)"
_SHORTCUT = re.compile(rf"^(?:{_NUMBER}-)?{_NUMBER}(?:/{_NUMBER})?(?::(.+))?$")
_SEQUENCE_KEYS = ("start", "end", "count", "stride", "format")


def _sequence(context, terms, **options) -> list:
    out = []
    for term in terms or [""]:
        spec = {"start": 1, "end": None, "count": None, "stride": 1, "format": "%d", **_sequence_options(options)}
        spec.update(_sequence_term(str(term)))
        out.extend(_generate(spec))
    return out


def _sequence_options(options: dict) -> dict:
    unknown = set(options) - set(_SEQUENCE_KEYS)
    if unknown:
        raise TypeError(f"unexpected keyword argument '{sorted(unknown)[0]}'")
    return {k: v if k == "format" else _int(v) for k, v in options.items()}


def _sequence_term(term: str) -> dict:
    match = _SHORTCUT.match(term.strip())
    if match:
        start, end, stride, fmt = match.groups()
        given = {"start": start, "end": end, "stride": stride}
        return {**{k: _int(v) for k, v in given.items() if v is not None}, **({"format": fmt} if fmt else {})}
    spec = {}
    for word in term.split():
        key, sep, value = word.partition("=")
        if not sep or key not in _SEQUENCE_KEYS:
            raise TemplateRuntimeError(f"sequence: unrecognized argument '{word}' (expected start, end, count, "
                                       "stride, format, or the form [start-]end[/stride][:format])")
        spec[key] = value if key == "format" else _int(value)
    return spec


def _int(value) -> int:
    """Decimal (``010`` is ten, as in Ansible), or ``0x`` hexadecimal."""
    text = str(value).strip()
    try:
        return int(text, 16) if text.lower().lstrip("-").startswith("0x") else int(text, 10)
    except ValueError:
        raise TemplateRuntimeError(f"sequence: can't parse {value!r} as an integer") from None


def _generate(spec: dict) -> list[str]:
    start, end, count, stride, fmt = (spec[k] for k in _SEQUENCE_KEYS)
    if count is None and end is None:
        raise TemplateRuntimeError("sequence: give count or end")
    if count is not None and end is not None:
        raise TemplateRuntimeError("sequence: give count or end, not both")
    if count is not None:
        if count == 0:
            return []
        end = start + count * stride - 1
    if stride > 0 and end < start:
        raise TemplateRuntimeError("sequence: to count backwards make stride negative")
    if stride < 0 and end > start:
        raise TemplateRuntimeError("sequence: to count forward don't make stride negative")
    if stride == 0:
        return []
    if fmt.count("%") != 1:
        raise TemplateRuntimeError(f"sequence: bad formatting string: {fmt}")
    numbers = range(start, end + (1 if stride > 0 else -1), stride)
    if len(numbers) > 1_000_000:
        raise TemplateRuntimeError(f"sequence: {len(numbers)} items are too many")
    try:
        return [fmt % number for number in numbers]
    except (TypeError, ValueError):
        raise TemplateRuntimeError(f"sequence: problem formatting with {fmt!r}") from None


_NO_DEFAULT = object()


def _vars(context, terms, default=_NO_DEFAULT) -> list:
    out = []
    for term in terms:
        if not isinstance(term, str):
            raise TemplateRuntimeError(f"vars: a variable name must be a string, not {type(term).__name__}")
        value = context.get(term, _NO_DEFAULT)
        if value is _NO_DEFAULT:
            if default is _NO_DEFAULT:
                raise TemplateRuntimeError(f"vars: no variable named '{term}' was found")
            value = default
        out.append(value)
    return out


def _varnames(context, terms) -> list:
    names = list(context.get_all())
    out = []
    for term in terms:
        if not isinstance(term, str):
            raise TemplateRuntimeError(f"varnames: '{term}' is not a string")
        try:
            pattern = re.compile(term)
        except re.error as exc:
            raise TemplateRuntimeError(f"varnames: '{term}' is not a regular expression: {exc}") from None
        out.extend(name for name in names if pattern.search(name))
    return out


def _env(context, terms, default="") -> list:
    return [os.environ.get((str(term).split() or [""])[0], default) for term in terms]


def _inventory_hostnames(context, terms) -> list:
    """Hosts matching a pattern, from the run's ``groups`` (as Ansible, no match is an empty list)."""
    inventory = Inventory("groups")
    for group, hosts in (context.get("groups") or {}).items():
        inventory.add_group(group)
        for host in hosts:
            inventory.add_host(group, host, {})
    inventory.finish()
    try:
        return inventory.match(",".join(str(t) for t in terms)) if terms else []
    except InputError:
        return []


LOOKUPS = {"items": _items, "list": _list, "flattened": _flattened, "dict": _dict, "indexed_items": _indexed_items,
           "nested": _nested, "together": _together, "random_choice": _random_choice, "subelements": _subelements,
           "sequence": _sequence, "vars": _vars, "varnames": _varnames, "env": _env,
           "inventory_hostnames": _inventory_hostnames}
