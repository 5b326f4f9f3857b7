"""Ansible's INI inventory format, read into the same `Inventory` as YAML::

    host0                          # before any section: ungrouped
    [web]
    web[01:03].example.com http_port=80
    [web:vars]
    ntp = ntp.example.com
    [prod:children]
    web

Values are read as Ansible reads them: a Python literal (``8080``,
``True``, ``[1, 2]``, ``'quoted'``) becomes that value and anything else
stays a string, so ``yes`` is the string "yes" here, unlike in YAML. A host
written ``name:port`` gets ``ansible_port``.
"""

from __future__ import annotations

import ast
import re
import shlex
import string
import warnings
from pathlib import Path

from .inventory import Inventory
from .source import InputError, Where, read_text

SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$")
GROUP_NAME = re.compile(r"^([^:\]\s]+)\s*(?:#.*)?$")
RANGE = re.compile(r"^(?P<head>[^\[]*)\[(?P<beg>[^\]:]*):(?P<end>[^\]:]*)(?::(?P<step>[^\]]*))?\](?P<tail>.*)$")
SECTION_KINDS = ("hosts", "vars", "children")
#: The most hosts one line's ranges may name: a typo (web[1:100000000])
#: must not fill the controller's memory.
MAX_RANGE_HOSTS = 100_000


def add_ini(inv: Inventory, path: str | Path) -> None:
    """Add one INI inventory file's groups, hosts and variables to ``inv``."""
    lines = read_text(path).splitlines()
    declared = set(inv.groups)
    vars_sections: dict[str, Where] = {}
    child_refs: dict[str, tuple[Where, str]] = {}
    group, kind = "ungrouped", "hosts"
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        at = Where(str(path), number, len(raw) - len(raw.lstrip()) + 1)
        section = SECTION.match(line)
        if section:
            group, kind = section.group(1), section.group(2) or "hosts"
            if kind not in SECTION_KINDS:
                raise InputError(at, f"section [{group}:{kind}] has unknown type '{kind}' "
                                     f"(expected one of: {', '.join(SECTION_KINDS)})")
            if kind == "vars":
                vars_sections.setdefault(group, at)
            else:
                declared.add(group)
            inv.add_group(group)
        elif line.startswith("[") and line.endswith("]"):
            raise InputError(at, f"invalid section '{line}': a section is [group], [group:vars] or "
                                 f"[group:children], with no spaces")
        elif kind == "hosts":
            _host_line(inv, group, line, at)
        elif kind == "vars":
            key, value = _assignment(line, at)
            inv.groups[group].vars[key] = value
        else:
            child = GROUP_NAME.match(line)
            if not child:
                raise InputError(at, f"expected a group name in [{group}:children], got '{line}'")
            child_refs.setdefault(child.group(1), (at, group))
            try:
                inv.add_child(group, child.group(1))
            except ValueError as exc:
                raise InputError(at, str(exc)) from None
    _check_declared(declared, vars_sections, child_refs)


def _check_declared(declared: set, vars_sections: dict, child_refs: dict) -> None:
    """Ansible's rule: [g:vars] and [parent:children] may name only groups
    that are declared as [g] or [g:children] somewhere (earlier or later)."""
    problems = [(at, f"section [{g}:vars] is for group '{g}', which is never declared")
                for g, at in vars_sections.items() if g not in declared]
    problems += [(at, f"section [{parent}:children] names group '{g}', which is never declared")
                 for g, (at, parent) in child_refs.items() if g not in declared]
    if problems:
        at, message = min(problems, key=lambda p: p[0].line)
        raise InputError(at, message)


def _host_line(inv: Inventory, group: str, line: str, at: Where) -> None:
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError as exc:
        raise InputError(at, f"cannot parse host line '{line}': {exc}") from None
    pattern, variables = tokens[0], {}
    for token in tokens[1:]:
        if "=" not in token:
            raise InputError(at, f"expected key=value host variable, got '{token}'")
        key, _, value = token.partition("=")
        variables[key] = parse_value(value)
    pattern, port = _split_port(pattern, at)
    if port is not None:
        variables["ansible_port"] = port
    for name in expand_range(pattern, at):
        inv.add_host(group, name, variables, at)


def _split_port(pattern: str, at: Where) -> tuple[str, int | None]:
    if pattern.endswith(":"):
        raise InputError(at, f"host '{pattern}' ends in ':'; that character is reserved for a port")
    outside_ranges = re.sub(r"\[[^\]]*\]", "", pattern)
    if outside_ranges.count(":") == 1:
        name, _, port = pattern.rpartition(":")
        if not port.isdigit():
            raise InputError(at, f"host '{pattern}': the port after ':' must be a number")
        return name, int(port)
    return pattern, None  # no port, a range (web[1:3]) or an IPv6 address


def expand_range(pattern: str, at: Where, most: int = MAX_RANGE_HOSTS) -> list[str]:
    """``web[01:03]`` → web01, web02, web03; ``db-[a:c]``; ``[1:9:2]`` steps by 2;
    at most ``most`` names."""
    m = RANGE.match(pattern)
    if not m:
        return [pattern]
    beg, end, step = m.group("beg") or "0", m.group("end"), m.group("step") or "1"
    if not end or not step.isdigit() or int(step) < 1:
        raise InputError(at, f"host range '{pattern}' needs [begin:end] or [begin:end:step] with a step of 1 or more")
    if beg in string.ascii_letters and end in string.ascii_letters:
        first, last = string.ascii_letters.index(beg), string.ascii_letters.index(end)
        values = list(string.ascii_letters[first:last + 1:int(step)])
    elif beg.isdigit() and end.isdigit():
        width = len(beg) if beg.startswith("0") and len(beg) > 1 else 0
        if width and len(end) != width:
            raise InputError(at, f"host range '{pattern}': a zero-padded begin and its end must have the same width")
        numbers = range(int(beg), int(end) + 1, int(step))
        if len(numbers) > most:
            raise InputError(at, f"the host ranges on this line name more than {MAX_RANGE_HOSTS} hosts")
        values = [str(n).zfill(width) for n in numbers]
    else:
        raise InputError(at, f"host range '{pattern}' must be numbers or single letters")
    if not values:
        raise InputError(at, f"host range '{pattern}' is empty: begin is after end")
    if len(values) > most:
        raise InputError(at, f"the host ranges on this line name more than {MAX_RANGE_HOSTS} hosts")
    return [name for value in values
            for name in expand_range(m.group("head") + value + m.group("tail"), at, most // len(values))]


def _assignment(line: str, at: Where) -> tuple[str, object]:
    key, sep, value = line.partition("=")
    if not sep or not key.strip():
        raise InputError(at, f"expected key=value, got '{line}'")
    return key.strip(), parse_value(value.strip())


def parse_value(text: str):
    """Ansible's INI value: a Python literal if it is one, else the text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "invalid escape sequence" in a Windows path
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    return _plain(value, text)


def _plain(value, text: str):
    if isinstance(value, (list, tuple, set)):
        return [_plain(v, repr(v)) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, repr(v)) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, complex) or value is Ellipsis:
        return text  # literals with no YAML counterpart stay as written, as in Ansible
    return value
