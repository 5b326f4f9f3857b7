"""Where a play is parsed: a playbook file into `Play` objects.

Everything a run needs is loaded and validated here, before any message is
sent: YAML syntax, unknown keys, unknown modules, unknown, missing and
mistyped module arguments, roles and imported files. Each error names
file:line:col. Tasks themselves are parsed in `tasks.py`, roles in `roles.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..registry import Registry
from .arguments import validate_args
from . import keywords
from .prompts import answer_prompts
from .roles import Roles
from .source import InputError, Where, expect_list, expect_mapping, item_where, plain, type_name, value_where, where
from .yamlread import load_yaml
from .tasks import HANDLER_KEYS, Loader, Scope, Task, _optional_bool, _reject_unknown, _tags, _when, walk
from .templating import TemplateFailure, render

PLAY_KEYS = {"name", "hosts", "vars", "vars_files", "tags", "tasks", "pre_tasks", "post_tasks", "roles",
             "handlers", "gather_facts", "check_mode", "diff", "no_log", "ignore_errors", "serial",
             "max_fail_percentage", "any_errors_fatal", "strategy", "force_handlers", "become", "environment",
             "run_once", "gather_subset", "gather_timeout", "fact_path", "order", "vars_prompt"} | keywords.INHERITED
#: What an ``import_playbook`` entry takes: its ``vars`` go to every play it
#: imports (above the plays' own), its ``when`` to their tasks and facts
#: gathering (not their handlers), its ``tags`` to the plays, as Ansible's.
IMPORT_PLAYBOOK_KEYS = {"import_playbook", "name", "vars", "when", "tags"}
STRATEGIES = ("linear", "free")
#: ``order``: how a play's hosts are ordered (Ansible's words).
ORDERS = ("inventory", "reverse_inventory", "sorted", "reverse_sorted", "shuffle")
#: Play keywords that are arguments of the facts gathering (the ``setup`` module's).
FACT_KEYWORDS = ("gather_subset", "gather_timeout", "fact_path")


@dataclass
class Play:
    name: str
    hosts: Any
    where: Where
    vars: dict = field(default_factory=dict)
    tags: tuple = ()
    #: pre_tasks, roles + tasks, post_tasks: handlers are flushed after each.
    sections: list[list] = field(default_factory=list)
    handlers: list[Task] = field(default_factory=list)
    gather_facts: Any = True
    check_mode: bool | None = None
    diff: bool | None = None
    serial: list = field(default_factory=list)
    max_fail_percentage: float | None = None
    any_errors_fatal: bool = False
    #: As written; None when the play does not say (the run then chooses:
    #: engine/execution.py).
    strategy: str | None = None
    force_handlers: bool = False
    role_defaults: dict = field(default_factory=dict)
    role_vars: dict = field(default_factory=dict)
    vars_files: dict = field(default_factory=dict)
    order: str = "inventory"
    #: Arguments of the play's facts gathering: ``module_defaults`` for
    #: setup, then gather_subset, gather_timeout and fact_path.
    fact_args: dict = field(default_factory=dict)
    #: The ``when`` of the imports that brought the play in: its facts
    #: gathering runs only where they hold (its tasks have them already).
    when: list = field(default_factory=list)

    @property
    def tasks(self) -> list[Task]:
        """Every task of the play (blocks flattened), in order."""
        return [t for section in self.sections for t in walk(section)]

    @property
    def handler_names(self) -> set[str]:
        """Every name a task of the play may ``notify`` (see `Task.handler_names`)."""
        return {name for handler in self.handlers for name in handler.handler_names}


@dataclass(frozen=True)
class Imported:
    """What the ``import_playbook`` entries around a play give it."""

    vars: dict = field(default_factory=dict)
    when: tuple = ()
    tags: tuple = ()

    def inner(self, node: dict) -> "Imported":
        """Inside ``node``'s import: an outer import's vars win (Ansible
        applies them last), its conditions come first."""
        own = plain(expect_mapping(node.get("vars"), value_where(node, "vars"), "import_playbook vars"))
        return Imported({**own, **self.vars}, self.when + tuple(_when(node)), self.tags + _tags(node, "tags"))


@dataclass
class Playbook:
    path: Path
    plays: list[Play]

    @property
    def directory(self) -> Path:
        return self.path.parent


def load_playbook(path: str | Path, registry: Registry, extra_vars: dict | None = None,
                  roles_path: list[str] = (), ask=None) -> Playbook:
    """``ask(prompt, private)``: how a ``vars_prompt`` without an answer in
    ``extra_vars`` is asked (None: there is no one to ask; see prompts.py)."""
    path = Path(path)
    return Playbook(path, _load_plays(path, registry, extra_vars or {}, list(roles_path), (), ask))


def _load_plays(path: Path, registry: Registry, extra_vars: dict, roles_path: list[str], seen: tuple,
                ask=None, imported: Imported = Imported()) -> list[Play]:
    if path.resolve() in seen:
        raise InputError(Where(str(path)), "import_playbook loops back to this file")
    node = load_yaml(path)
    plays_node = expect_list(node, where(node, Where(str(path))), "a playbook")
    if not plays_node:
        raise InputError(Where(str(path)), "the playbook has no plays")
    plays = []
    for index, play_node in enumerate(plays_node):
        at = item_where(plays_node, index)
        if isinstance(play_node, dict) and "import_playbook" in play_node:
            _reject_unknown(play_node, IMPORT_PLAYBOOK_KEYS, "keyword of import_playbook")
            target = path.parent / str(play_node["import_playbook"])
            plays += _load_plays(target, registry, extra_vars, roles_path, seen + (path.resolve(),), ask,
                                 imported.inner(play_node))
            continue
        plays.append(_parse_play(play_node, at, path.parent, registry, extra_vars, roles_path, ask, imported))
    return plays


def _parse_play(node, at: Where, base: Path, registry: Registry, extra_vars: dict, roles_path: list[str],
                ask=None, imported: Imported = Imported()) -> Play:
    node = expect_mapping(node, at, "a play")
    _reject_unknown(node, PLAY_KEYS, "play keyword")
    if "hosts" not in node:
        raise InputError(at, "the play has no 'hosts:'")
    hosts = node["hosts"]
    if isinstance(hosts, list):
        hosts = [str(h) for h in hosts]
    elif not isinstance(hosts, str) or not hosts.strip():
        raise InputError(value_where(node, "hosts"), f"'hosts' must be a pattern string or list, got {type_name(hosts)}")
    play = Play(name=str(node.get("name") or hosts), hosts=hosts, where=at,
                vars=plain(expect_mapping(node.get("vars"), value_where(node, "vars"), "play vars")),
                tags=_tags(node, "tags") + imported.tags, gather_facts=plain(node.get("gather_facts", True)),
                check_mode=_optional_bool(node, "check_mode"), diff=_optional_bool(node, "diff"),
                any_errors_fatal=bool(_optional_bool(node, "any_errors_fatal")),
                force_handlers=bool(_optional_bool(node, "force_handlers")))
    _rollout(play, node)
    play.vars.update(imported.vars)
    play.when = list(imported.when)
    play.vars.update(answer_prompts(node, extra_vars, ask))
    play.vars_files = _vars_files(node, base, {**play.vars, **extra_vars})
    scope_node = {k: node[k] for k in ("tags", "no_log", "ignore_errors", "environment", "run_once") if k in node}
    handler_scope = Scope(search=(str(base.resolve()),), tags=imported.tags).inner(scope_node).inherit(node)
    scope = replace(handler_scope, when=imported.when)
    play.fact_args = _fact_args(node, scope, registry, at)
    roles = Roles(base, roles_path)
    loader = Loader(registry, {**play.vars, **play.vars_files, **extra_vars}, roles)
    from_roles: list = []
    role_list = expect_list(node.get("roles"), value_where(node, "roles"), "roles")
    for index, entry in enumerate(role_list):
        from_roles += roles.entry(entry, item_where(role_list, index), scope, loader)
    pre = loader.tasks(node.get("pre_tasks"), value_where(node, "pre_tasks"), scope)
    main = from_roles + loader.tasks(node.get("tasks"), value_where(node, "tasks"), scope)
    post = loader.tasks(node.get("post_tasks"), value_where(node, "post_tasks"), scope)
    play.sections = [pre, main, post]  # each ends in a flush of the handlers, as in Ansible
    handlers = loader.tasks(node.get("handlers"), value_where(node, "handlers"), handler_scope, HANDLER_KEYS)
    play.handlers = [t for t in walk(loader.handlers + handlers)]
    play.role_defaults, play.role_vars = roles.defaults, roles.vars
    _check_notify(play)
    return play


def _rollout(play: Play, node) -> None:
    serial = plain(node.get("serial"))
    if serial is not None:
        sizes = serial if isinstance(serial, list) else [serial]
        for size in sizes:
            text = str(size).strip()
            if not (text.rstrip("%").isdigit() and int(text.rstrip("%")) > 0):
                raise InputError(value_where(node, "serial"), f"'serial' takes numbers or percentages, got {size!r}")
        play.serial = [str(s) for s in sizes]
    if "max_fail_percentage" in node:
        try:
            play.max_fail_percentage = float(node["max_fail_percentage"])
        except (TypeError, ValueError):
            raise InputError(value_where(node, "max_fail_percentage"), "'max_fail_percentage' must be a number") from None
    if "strategy" in node:
        strategy = str(node["strategy"])
        if strategy not in STRATEGIES:
            raise InputError(value_where(node, "strategy"),
                             f"unknown strategy '{strategy}' (use: {', '.join(STRATEGIES)})")
        play.strategy = strategy
    order = str(node.get("order", "inventory"))
    if order not in ORDERS:
        raise InputError(value_where(node, "order"), f"unknown order '{order}' (use: {', '.join(ORDERS)})")
    play.order = order


def _fact_args(node, scope: Scope, registry: Registry, at: Where) -> dict:
    """What the play's facts gathering passes to ``setup``, checked as its
    arguments are (a bad gather_subset is an error at its place)."""
    args: dict = {}
    where: dict = {}
    for name, arg, value, arg_at in scope.overrides.get("module_defaults", ()):
        if registry.resolve(name) == "setup":
            args[arg], where[arg] = value, arg_at
    for key in FACT_KEYWORDS:
        if key in node:
            args[key], where[key] = plain(node[key]), value_where(node, key)
    validate_args(Task(name="Gathering Facts", module="setup", args=dict(args), where=at, arg_where=where),
                  registry.get("setup"))
    return args


def _vars_files(node, base: Path, variables: dict) -> dict:
    out: dict = {}
    files = expect_list(node.get("vars_files"), value_where(node, "vars_files"), "vars_files")
    for index, name in enumerate(files):
        at = item_where(files, index)
        try:
            path = base / str(render(str(name), variables))
        except TemplateFailure as exc:
            raise InputError(at, f"vars_files may use play and extra variables only: {exc}") from None
        if not path.is_file():  # said where the play names it, as include_tasks does
            raise InputError(at, f"vars_files: cannot find '{name}' (looked in {base})")
        data = load_yaml(path)
        out.update(plain(expect_mapping(data, where(data, Where(str(path))), f"vars file {path}")))
    return out


def _check_notify(play: Play) -> None:
    names = play.handler_names
    for task in play.tasks + play.handlers:
        for notified in task.notify:
            if notified not in names:
                raise InputError(task.where, f"task '{task.title}' notifies '{notified}', but the play has "
                                             f"no handler of that name or 'listen' topic")


