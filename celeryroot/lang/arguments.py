"""A task's module arguments: a mapping, a ``k=v`` string or a free form,
checked against the module's spec (names now, types of the values that are
already known: templated values are checked after rendering)."""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING

from ..module import ArgError, canonical, convert_value, spec_fields, type_hints
from ..result import CENSORED
from .source import InputError, Where, key_where, plain, type_name, value_where
from .templating import is_template

if TYPE_CHECKING:
    from .tasks import Task


def module_args(raw, node, key, cls) -> tuple[dict, dict]:
    at = value_where(node, key)
    if raw is None:
        return {}, {}
    if isinstance(raw, dict):
        return plain(raw), {str(k): key_where(raw, k) for k in raw}
    if isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
        return parse_kv(str(raw), cls, at), {}
    raise InputError(at, f"arguments of '{key}' must be a mapping or a 'k=v' string, got {type_name(raw)}")


_TOKEN = re.compile(r"""(?:\{\{.*?\}\}|\{%.*?%\}|[^\s"'{]+|"(?:\\.|[^"\\])*"|'[^']*'|\{)+""", re.S)
_KV = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.S)


def parse_kv(text: str, cls, at: Where) -> dict:
    """``path=/tmp/x state=directory``; for a free-form module the words that
    are not arguments of the module are its free-form text, kept verbatim."""
    known = {f.name for f in spec_fields(cls.Args)} | {a for f in spec_fields(cls.Args)
                                                      for a in f.metadata.get("aliases", ())}
    args: dict = {}
    free: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        kv = _KV.match(token)
        if kv and (kv.group(1) in known or not cls.free_form):
            args[kv.group(1)] = _unquote(kv.group(2), token, at)
        elif cls.free_form:
            free.append(token)
        else:
            raise InputError(at, f"'{token}' is not a key=value argument of '{cls.name}'")
    if free:
        args[cls.free_form] = " ".join(free)
    return args


_ESCAPES = re.compile(r"\\([nt])")


def _unquote(value: str, token: str, at: Where) -> str:
    """A quoted ``k="v"`` value loses its quotes, and ``\\n`` and ``\\t`` in it
    become a newline and a tab, as Ansible's parse_kv does."""
    if not value or value[0] not in "'\"":
        return value
    try:
        text = " ".join(shlex.split(value))
        return _ESCAPES.sub(lambda m: "\n" if m.group(1) == "n" else "\t", text)
    except ValueError as exc:
        raise InputError(at, f"cannot parse '{token}': {exc}") from None


def validate_args(task: Task, cls) -> None:
    """Names against the spec, and types of the values already known."""
    _, errors = canonical(cls.Args, task.args)
    if errors:
        err = errors[0]
        raise InputError(task.arg_where.get(err.name, task.where), f"{task.module}: {err}")
    hints = type_hints(cls.Args)
    fields = {f.name: f for f in spec_fields(cls.Args)}
    aliases = {a: f.name for f in fields.values() for a in f.metadata.get("aliases", ())}
    for key, value in task.args.items():
        name = aliases.get(key, key)
        if _has_template(value):
            continue
        try:
            convert_value(fields[name], hints[name], value)
        except ArgError as exc:
            raise InputError(task.arg_where.get(key, task.where), f"{task.module}: {arg_problem(task, exc)}") from None


def arg_problem(task: Task, exc: ArgError) -> str:
    """What a bad argument's error may say: it quotes the value, which a
    ``no_log`` task's may be a secret."""
    return f"argument '{exc.name}' is not valid; {CENSORED}" if task.no_log else str(exc)


def _has_template(value) -> bool:
    if isinstance(value, dict):
        return any(_has_template(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_template(v) for v in value)
    return is_template(value)
