"""Where a play is parsed: YAML plays and tasks into `Play` and `Task`.

Everything a run needs is loaded and validated here, before any message is
sent: YAML syntax, unknown keys, unknown modules, unknown, missing and
mistyped module arguments. Each error names file:line:col.
"""

from __future__ import annotations

import difflib
import re
import shlex
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .module import ArgError, canonical, convert_value, spec_fields
from .registry import Registry
from .source import (InputError, Where, expect_list, expect_mapping, item_where, key_where, load_yaml,
                     plain, type_name, value_where, where)
from .templating import is_template

PLAY_KEYS = {"name", "hosts", "vars", "tags", "tasks", "handlers", "gather_facts", "check_mode", "diff",
             "no_log", "ignore_errors"}
TASK_KEYS = {"name", "tags", "when", "notify", "register", "ignore_errors", "args", "vars", "no_log",
             "loop", "with_items", "with_list", "loop_control", "changed_when", "failed_when", "check_mode",
             "diff"}
HANDLER_KEYS = TASK_KEYS | {"listen"}
LOOP_CONTROL_KEYS = {"loop_var", "label"}


@dataclass
class Task:
    name: str
    module: str
    args: dict
    where: Where
    arg_where: dict = field(default_factory=dict)
    tags: tuple = ()
    when: list = field(default_factory=list)
    notify: list = field(default_factory=list)
    listen: list = field(default_factory=list)
    register: str | None = None
    ignore_errors: bool = False
    vars: dict = field(default_factory=dict)
    no_log: bool = False
    loop: Any = None
    loop_var: str = "item"
    label: Any = None
    changed_when: Any = None
    failed_when: Any = None
    check_mode: bool | None = None
    diff: bool | None = None
    #: Directories where relative ``src`` files are looked up (role, playbook).
    search: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return self.name or f"{self.module}"


@dataclass
class Play:
    name: str
    hosts: Any
    where: Where
    vars: dict = field(default_factory=dict)
    tags: tuple = ()
    tasks: list[Task] = field(default_factory=list)
    handlers: list[Task] = field(default_factory=list)
    gather_facts: Any = False
    check_mode: bool | None = None
    diff: bool | None = None


@dataclass
class Playbook:
    path: Path
    plays: list[Play]

    @property
    def directory(self) -> Path:
        return self.path.parent


def load_playbook(path: str | Path, registry: Registry) -> Playbook:
    path = Path(path)
    node = load_yaml(path)
    plays_node = expect_list(node, where(node, Where(str(path))), "a playbook")
    if not plays_node:
        raise InputError(Where(str(path)), "the playbook has no plays")
    plays = []
    for index, play_node in enumerate(plays_node):
        plays.append(_parse_play(play_node, item_where(plays_node, index), registry))
    search = (str(path.parent.resolve()),)
    for play in plays:
        for task in play.tasks + play.handlers:
            task.search = search
    return Playbook(path, plays)


def _parse_play(node, at: Where, registry: Registry) -> Play:
    node = expect_mapping(node, at, "a play")
    _reject_unknown(node, PLAY_KEYS, "play keyword")
    if "hosts" not in node:
        raise InputError(at, "the play has no 'hosts:'")
    hosts = node["hosts"]
    if isinstance(hosts, list):
        hosts = [str(h) for h in hosts]
    elif not isinstance(hosts, str) or not hosts.strip():
        raise InputError(value_where(node, "hosts"), f"'hosts' must be a pattern string or list, got {type_name(hosts)}")
    play = Play(
        name=str(node.get("name") or hosts),
        hosts=hosts,
        where=at,
        vars=plain(expect_mapping(node.get("vars"), value_where(node, "vars"), "play vars")),
        tags=_tags(node, "tags"),
        gather_facts=plain(node.get("gather_facts", False)),
        check_mode=_optional_bool(node, "check_mode"),
        diff=_optional_bool(node, "diff"),
    )
    tasks = expect_list(node.get("tasks"), value_where(node, "tasks"), "tasks")
    play.tasks = [parse_task(t, item_where(tasks, i), registry, TASK_KEYS) for i, t in enumerate(tasks)]
    handlers = expect_list(node.get("handlers"), value_where(node, "handlers"), "handlers")
    play.handlers = [parse_task(t, item_where(handlers, i), registry, HANDLER_KEYS)
                     for i, t in enumerate(handlers)]
    names = {h.name for h in play.handlers} | {topic for h in play.handlers for topic in h.listen}
    for task in play.tasks + play.handlers:
        for notified in task.notify:
            if notified not in names:
                raise InputError(task.where, f"task '{task.title}' notifies '{notified}', but the play has "
                                             f"no handler of that name or 'listen' topic")
    return play


def parse_task(node, at: Where, registry: Registry, allowed: set[str]) -> Task:
    node = expect_mapping(node, at, "a task")
    module_keys = [k for k in node if k not in allowed]
    if not module_keys:
        raise InputError(at, "the task names no module (e.g. 'file:', 'command:')")
    if len(module_keys) > 1:
        unknown = [k for k in module_keys if k not in registry]
        if unknown:
            raise InputError(key_where(node, unknown[0]), _unknown_key_message(unknown[0], allowed, registry))
        raise InputError(at, f"the task names more than one module: {', '.join(module_keys)}")
    key = module_keys[0]
    cls = registry.get(key)
    if cls is None:
        raise InputError(key_where(node, key), _unknown_key_message(key, allowed, registry))
    raw = node[key]
    args, arg_where = _module_args(raw, node, key, cls)
    extra = node.get("args")
    if extra is not None:
        extra = expect_mapping(extra, value_where(node, "args"), "'args'")
        for k in extra:
            arg_where[str(k)] = key_where(extra, k)
        args.update(plain(extra))
    task = Task(name=str(node.get("name") or ""), module=registry.resolve(key), args=args, where=at,
                arg_where=arg_where)
    _task_keywords(task, node)
    validate_args(task, cls)
    return task


def _unknown_key_message(key: str, allowed: set[str], registry: Registry) -> str:
    close = difflib.get_close_matches(key, registry.names() + sorted(allowed), n=1, cutoff=0.7)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown module or task keyword '{key}'{hint}"


def _module_args(raw, node, key, cls) -> tuple[dict, dict]:
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


def _unquote(value: str, token: str, at: Where) -> str:
    if not value or value[0] not in "'\"":
        return value
    try:
        return " ".join(shlex.split(value))
    except ValueError as exc:
        raise InputError(at, f"cannot parse '{token}': {exc}") from None


def validate_args(task: Task, cls) -> None:
    """Names against the spec, and types of the values already known."""
    _, errors = canonical(cls.Args, task.args)
    if errors:
        err = errors[0]
        raise InputError(task.arg_where.get(err.name, task.where), f"{task.module}: {err}")
    hints = typing.get_type_hints(cls.Args)
    fields = {f.name: f for f in spec_fields(cls.Args)}
    aliases = {a: f.name for f in fields.values() for a in f.metadata.get("aliases", ())}
    for key, value in task.args.items():
        name = aliases.get(key, key)
        if _has_template(value):
            continue
        try:
            convert_value(fields[name], hints[name], value)
        except ArgError as exc:
            raise InputError(task.arg_where.get(key, task.where), f"{task.module}: {exc}") from None


def _has_template(value) -> bool:
    if isinstance(value, dict):
        return any(_has_template(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_template(v) for v in value)
    return is_template(value)


def _task_keywords(task: Task, node) -> None:
    task.tags = _tags(node, "tags")
    task.when = _when(node)
    task.notify = _strings(node, "notify")
    task.listen = _strings(node, "listen")
    if "register" in node:
        reg = node["register"]
        if not isinstance(reg, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", reg):
            raise InputError(value_where(node, "register"), f"'register' must be a variable name, got {reg!r}")
        task.register = reg
    task.ignore_errors = bool(_optional_bool(node, "ignore_errors"))
    task.no_log = bool(_optional_bool(node, "no_log"))
    task.check_mode = _optional_bool(node, "check_mode")
    task.diff = _optional_bool(node, "diff")
    task.vars = plain(expect_mapping(node.get("vars"), value_where(node, "vars"), "task vars"))
    loops = [k for k in ("loop", "with_items", "with_list") if k in node]
    if len(loops) > 1:
        raise InputError(key_where(node, loops[1]), f"a task takes one loop, got {' and '.join(loops)}")
    if loops:
        task.loop = plain(node[loops[0]])
        if loops[0] == "with_items" and isinstance(task.loop, list):
            task.loop = _flatten_once(task.loop)
    control = expect_mapping(node.get("loop_control"), value_where(node, "loop_control"), "loop_control")
    _reject_unknown(control, LOOP_CONTROL_KEYS, "loop_control key")
    task.loop_var = str(control.get("loop_var", "item"))
    task.label = plain(control.get("label"))
    task.changed_when = plain(node.get("changed_when"))
    task.failed_when = plain(node.get("failed_when"))


def _flatten_once(items: list) -> list:
    out = []
    for item in items:
        out.extend(item if isinstance(item, list) else [item])
    return out


def _reject_unknown(node: dict, allowed: set[str], what: str) -> None:
    for key in node:
        if key not in allowed:
            raise InputError(key_where(node, key), f"unknown {what} '{key}' (expected one of: "
                                                   f"{', '.join(sorted(allowed))})")


def _tags(node, key: str) -> tuple:
    value = node.get(key)
    if value is None:
        return ()
    if isinstance(value, (str, int)):
        return tuple(t.strip() for t in str(value).split(",") if t.strip())
    if isinstance(value, list):
        return tuple(str(t) for t in value)
    raise InputError(value_where(node, key), f"'{key}' must be a string or a list, got {type_name(value)}")


def _strings(node, key: str) -> list[str]:
    value = node.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise InputError(value_where(node, key), f"'{key}' must be a string or a list of strings")


def _when(node) -> list:
    value = node.get("when")
    if value is None:
        return []
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (str, bool)):
        return [plain(value)]
    raise InputError(value_where(node, "when"), f"'when' must be an expression or a list, got {type_name(value)}")


def _optional_bool(node, key: str) -> bool | None:
    if key not in node:
        return None
    value = node[key]
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and is_template(value):
        raise InputError(value_where(node, key), f"'{key}' must be a boolean, not a template")
    words = {"yes": True, "true": True, "no": False, "false": False}
    if isinstance(value, str) and value.lower() in words:
        return words[value.lower()]
    raise InputError(value_where(node, key), f"'{key}' must be a boolean, got {value!r}")
