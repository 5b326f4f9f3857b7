"""Where tasks are parsed: tasks, blocks, and the files and roles they import.

A task list becomes a tree of `Task` and `Block`. What a block, role or
import gives its tasks (tags, ``when``, vars, ``check_mode``, …) is pushed
into each task through a `Scope` while parsing, so running a task never has
to look up its parents. ``import_*`` and ``include_*`` are both expanded
here, at load time, so the whole run is validated before any host is
contacted; their file names may use play and extra variables only.
``include_tasks`` and ``include_role`` with a loop, or whose file name
needs what only the run knows, become a task of their own that the play
loop includes when it runs (`Include`); whatever they can name that is
known now is loaded and checked now all the same.
"""

from __future__ import annotations

import difflib
import re
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import keywords
from .arguments import module_args, validate_args
from .files import find
from .lookups import LOOKUPS
from ..module import boolean, names_and_aliases, spec_fields
from ..registry import Registry
from .source import (InputError, Where, expect_list, expect_mapping, item_where, key_where, plain, type_name,
                     value_where, warn, where)
from .yamlread import load_yaml
from .templating import TemplateFailure, render

#: ``loop``, and ``with_NAME`` for every lookup NAME (which makes its items).
LOOP_KEYS = {"loop"} | {f"with_{name}" for name in LOOKUPS}
TASK_KEYS = {"name", "tags", "when", "notify", "register", "ignore_errors", "args", "vars", "no_log",
             "loop_control", "changed_when", "failed_when", "check_mode", "diff", "environment", "until",
             "retries", "delay", "run_once", "become", "any_errors_fatal"} | LOOP_KEYS | keywords.INHERITED | \
    keywords.TASK_ONLY
HANDLER_KEYS = TASK_KEYS | {"listen"}
BLOCK_KEYS = {"name", "block", "rescue", "always", "tags", "when", "vars", "no_log", "ignore_errors",
              "check_mode", "diff", "environment", "become", "run_once", "any_errors_fatal"} | keywords.INHERITED | \
    keywords.TASK_ONLY
INCLUDES = {"import_tasks", "include_tasks", "include", "import_role", "include_role"}
#: The includes that may wait for the run (a loop, a name from facts or results).
DYNAMIC_INCLUDES = {"include_tasks", "include_role"}
LOOP_CONTROL_KEYS = {"loop_var", "label", "index_var", "pause"}
#: How deep imports and roles may nest (a role's dependencies count, and
#: the files they import): far more than real playbooks need, well within
#: what parsing them recursively can take.
MAX_NESTED = 40
#: The most items a task loops over, and the most times ``until`` retries
#: it: a run must end in a bounded time. Past `result.KEPT_ITEMS` a loop's
#: result is summarised rather than held whole.
MAX_LOOP_ITEMS = 1_000_000
MAX_RETRIES = 1_000


def check_loop_size(items: list) -> None:
    """A loop of more than `MAX_LOOP_ITEMS` is refused before any item runs."""
    if len(items) > MAX_LOOP_ITEMS:
        raise TemplateFailure(f"the loop has {len(items)} items; a task loops over at most {MAX_LOOP_ITEMS} "
                              "(split the list, or pass it whole to a module that takes a list, such as apt's name)")


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
    #: The lookup whose items a ``with_NAME`` loop runs over (``loop`` its terms).
    loop_with: str | None = None
    loop_var: str = "item"
    label: Any = None
    index_var: str | None = None
    changed_when: Any = None
    failed_when: Any = None
    until: Any = None
    retries: int = 3
    delay: float = 5.0
    run_once: bool = False
    #: A failure of this task on any host stops the play for every host.
    any_errors_fatal: bool = False
    #: Seconds the module call may take before it is stopped and fails
    #: (None: no limit); a template is rendered for each host.
    timeout: int | str | None = None
    #: At most this many hosts run the task at once (0: no limit).
    throttle: int = 0
    #: The host that runs the task for each host (a template, rendered with
    #: the host's variables; None: the host itself), and whether the facts
    #: it returns are the delegate's.
    delegate_to: str | None = None
    delegate_facts: bool = False
    #: The local user the module runs as when ``become`` holds (a bool, or a
    #: template rendered per host), if other than root (a template too);
    #: None: as the worker.
    become: bool | str = False
    become_user: str | None = None
    check_mode: bool | None = None
    diff: bool | None = None
    environment: dict = field(default_factory=dict)
    #: Directories where relative ``src`` files are looked up (role, playbook).
    search: tuple[str, ...] = ()
    role: str | None = None
    #: For an include carried out when it runs: what it needs to load its
    #: tasks then (None for every other task).
    include: "Include | None" = None

    @property
    def title(self) -> str:
        name = self.name or self.module
        return f"{self.role} : {name}" if self.role else name

    @property
    def handler_names(self) -> set[str]:
        """What a handler answers to in ``notify``: its name, its ``listen``
        topics, and ``ROLE : name`` for a role's handler. Built here only, so
        the check at load time, the play loop and the bundles agree."""
        names = {self.name, *self.listen}
        if self.role:
            names.add(f"{self.role} : {self.name}")
        return names


@dataclass
class Block:
    name: str
    where: Where
    block: list = field(default_factory=list)
    rescue: list = field(default_factory=list)
    always: list = field(default_factory=list)


@dataclass(frozen=True)
class Scope:
    """What enclosing blocks, roles and imports give the tasks inside them."""

    search: tuple[str, ...] = ()
    tags: tuple = ()
    when: tuple = ()
    vars: dict = field(default_factory=dict)
    role: str | None = None
    overrides: dict = field(default_factory=dict)

    def inner(self, node: dict, **more) -> "Scope":
        """The scope for the children of ``node`` (a block, role or import)."""
        overrides = dict(self.overrides)
        for key in ("no_log", "ignore_errors", "check_mode", "diff", "run_once", "any_errors_fatal"):
            if key in node:
                overrides[key] = _optional_bool(node, key)
        if "environment" in node:
            overrides["environment"] = {**overrides.get("environment", {}), **plain(node["environment"])}
        return replace(self, tags=self.tags + _tags(node, "tags"), when=self.when + tuple(_when(node)),
                       vars={**self.vars, **plain(expect_mapping(node.get("vars"), value_where(node, "vars"),
                                                                 "vars"))}, overrides=overrides, **more).inherit(node)

    def inherit(self, node: dict) -> "Scope":
        """The scope with ``node``'s keywords of `keywords.INHERITED`."""
        overrides = dict(self.overrides)
        _inherit(overrides, keywords.read(node))
        return replace(self, overrides=overrides)


@dataclass
class Include:
    """What an include run by the play loop needs: the scope its tasks are
    parsed in (the include's ``vars`` and keywords, its ``apply``; not its
    own ``when`` and ``tags``, which decide whether it includes), the
    loader, and what was loaded and checked already (`known`: the tasks of
    every file it can name before the run, for the preflight)."""

    kind: str
    scope: "Scope"
    loader: "Loader"
    known: list = field(default_factory=list)

    def load(self, args: dict, item_vars: dict, at: Where) -> list:
        """The tasks included for one host and item, ``args`` rendered;
        a bad file is an `InputError` naming its file:line."""
        scope = replace(self.scope, vars={**self.scope.vars, **item_vars})
        return self.loader.at_run_time().included(self.kind, args, scope, at)


def _inherit(overrides: dict, own: dict) -> None:
    """A node's own ``timeout``/``throttle`` replace its parent's; its
    ``module_defaults`` come after the parent's, so they win per argument."""
    for key, value in own.items():
        overrides[key] = overrides.get(key, []) + value if key == "module_defaults" else value


class Loader:
    """Parses task files, following imports and roles (see `roles.py`)."""

    def __init__(self, registry: Registry, variables: dict, roles=None):
        self.registry = registry
        #: Play and extra variables, for templated import file names.
        self.variables = variables
        self.roles = roles
        #: Handlers that imported roles bring into the play.
        self.handlers: list[Task] = []
        #: The task files and roles being loaded, outermost first: (key, name as shown).
        self.chain: list[tuple] = []

    @contextmanager
    def entering(self, key, name: str, at: Where, loops: str):
        """Load a task file or role inside the current one. Imports are
        expanded here, at load time, so one that leads back to a file or
        role being loaded would never end: that is an error (``loops``
        says what kind), as is nesting deeper than `MAX_NESTED`."""
        keys = [k for k, _ in self.chain]
        names = [shown for _, shown in self.chain] + [name]
        if key in keys:
            raise InputError(at, f"{loops}: {' -> '.join(names[keys.index(key):])}; imports, includes and role "
                                 "dependencies are expanded when the playbook is loaded, so this would never end")
        if len(self.chain) >= MAX_NESTED:
            raise InputError(at, f"imports and roles nest more than {MAX_NESTED} deep: {' -> '.join(names)}")
        self.chain.append((key, name))
        try:
            yield
        finally:
            self.chain.pop()

    def at_run_time(self) -> "Loader":
        """A loader for an include carried out by the run: roles load afresh
        (a role included twice with the same vars includes twice)."""
        return Loader(self.registry, self.variables, self.roles.fresh() if self.roles else None)

    def included(self, kind: str, args: dict, scope: Scope, at: Where) -> list:
        """The tasks an include names, parsed in ``scope``."""
        if kind == "include_role":
            roles = self.roles
            nodes = roles.load(str(args["name"]), at, scope, tasks_from=str(args.get("tasks_from", "main")),
                               loader=self)
            # A role found only now: its defaults and vars reach its tasks as their vars.
            layers = {**roles.defaults, **roles.vars}
            for task in walk(nodes):
                task.vars = {**layers, **task.vars}
            return nodes
        name = str(args["file"])
        path = find(name, scope.search, "tasks")
        if path is None:
            raise InputError(at, f"include_tasks: cannot find '{name}' (looked in {', '.join(scope.search)} and "
                                 "their tasks/ folders)")
        with self.entering(("file", str(Path(path).resolve())), name, at,
                           "include_tasks leads back to a file being loaded"):
            loaded = load_yaml(path)
            return self.tasks(loaded, where(loaded, Where(str(path))), scope)

    def tasks(self, node, at: Where, scope: Scope, allowed: set[str] = TASK_KEYS) -> list:
        items = expect_list(node, at, "tasks")
        out = []
        for index, item in enumerate(items):
            out.extend(self.node(item, item_where(items, index), scope, allowed))
        return out

    def node(self, node, at: Where, scope: Scope, allowed: set[str] = TASK_KEYS) -> list:
        node = expect_mapping(node, at, "a task")
        if "block" in node:
            return [self._block(node, at, scope, allowed)]
        include = [k for k in node if self.registry.resolve(k) in INCLUDES]
        if include:
            return self._include(node, include[0], at, scope)
        return [parse_task(node, at, self.registry, allowed, scope)]

    def _block(self, node, at: Where, scope: Scope, allowed: set[str]) -> Block:
        _reject_unknown(node, BLOCK_KEYS, "block keyword")
        inner = scope.inner(node)
        block = Block(str(node.get("name") or ""), at)
        for part in ("block", "rescue", "always"):
            setattr(block, part, self.tasks(node.get(part), value_where(node, part), inner, allowed))
        return block

    def _include(self, node, key: str, at: Where, scope: Scope) -> list:
        kind = self.registry.resolve(key)
        allowed = {"name", "tags", "when", "vars", "apply", "no_log", "ignore_errors", "check_mode", "diff",
                   "environment", "become", key} | keywords.INHERITED
        if kind in DYNAMIC_INCLUDES:
            allowed |= LOOP_KEYS | {"loop_control", "register"}
        else:
            # As in Ansible, an import's task keywords are its tasks' (an
            # include's would be the include's own: `apply` passes them on).
            allowed |= keywords.TASK_ONLY | {"run_once"}
        _reject_unknown(node, allowed, f"keyword of {kind}")
        apply = self._apply(node, key)
        if kind in DYNAMIC_INCLUDES and self._at_run_time(node, key, kind):
            return [self._run_time_include(node, key, kind, at, scope, apply)]
        inner = scope.inner(node).inner(apply)
        spec = node[key]
        if kind in ("import_role", "include_role"):
            spec = expect_mapping(spec, value_where(node, key), kind)
            if "name" not in spec:
                raise InputError(value_where(node, key), f"{kind} needs 'name'")
            role = self.roles.load(str(spec["name"]), value_where(node, key), inner,
                                   tasks_from=str(spec.get("tasks_from", "main")), loader=self)
            return role
        if isinstance(spec, dict):
            spec = spec.get("file")
        name = self._file_name(spec, value_where(node, key))
        path = find(name, scope.search, "tasks")
        if path is None:
            raise InputError(value_where(node, key), f"{kind}: cannot find '{name}' (looked in "
                                                     f"{', '.join(scope.search)} and their tasks/ folders)")
        with self.entering(("file", str(Path(path).resolve())), name, value_where(node, key),
                           f"{kind} leads back to a file being loaded"):
            loaded = load_yaml(path)
            return self.tasks(loaded, where(loaded, Where(str(path))), inner)

    @staticmethod
    def _apply(node, key: str) -> dict:
        """``apply``: keywords for the included tasks (an argument of the
        include, or beside it)."""
        spec = node[key]
        apply = spec.get("apply") if isinstance(spec, dict) and "apply" in spec else node.get("apply")
        at = value_where(spec, "apply") if isinstance(spec, dict) and "apply" in spec else value_where(node, "apply")
        apply = expect_mapping(apply, at, "apply")
        _reject_unknown(apply, BLOCK_KEYS - {"block", "rescue", "always", "name"}, "keyword of apply")
        return apply

    def _at_run_time(self, node, key: str, kind: str) -> bool:
        """Whether an include waits for the run: it loops, or its name needs
        more than play and extra variables."""
        if any(k in node for k in LOOP_KEYS):
            return True
        spec = plain(node[key])
        if isinstance(spec, dict):
            spec = {k: v for k, v in spec.items() if k != "apply"}
        try:
            render(spec, self.variables)
        except TemplateFailure:
            return True
        return False

    def _run_time_include(self, node, key: str, kind: str, at: Where, scope: Scope, apply: dict) -> Task:
        task = parse_task(node, at, self.registry, TASK_KEYS | {"apply"}, scope)
        task.args.pop("apply", None)
        # The include's own when and tags decide whether it includes; its tasks do not inherit them.
        inner = replace(scope.inner(node), when=scope.when, tags=scope.tags).inner(apply)
        task.include = Include(kind, inner, self)
        task.include.known = self._known_now(task, inner, value_where(node, key))
        return task

    def _known_now(self, task: Task, scope: Scope, at: Where) -> list:
        """Load and check each file the include can name before the run: its
        name from play and extra variables, for each item of a literal
        loop. A name that needs the run is checked when it is included."""
        items = task.loop if isinstance(task.loop, list) and task.loop_with is None else [None]
        loaded = []
        for item in items:
            extra = {} if item is None else {task.loop_var: item}
            try:
                args = render(task.args, {**self.variables, **extra})
            except TemplateFailure:
                continue
            if _include_key(task.include.kind, args, scope, self.roles) in [k for k, _ in self.chain]:
                continue  # being loaded: an include of itself, which the run's conditions end
            loaded += self.included(task.include.kind, args, scope, at)
        return loaded

    def _file_name(self, value, at: Where) -> str:
        if not isinstance(value, str):
            raise InputError(at, f"expected a file name, got {type_name(value)}")
        try:
            return str(render(value, self.variables))
        except TemplateFailure as exc:
            raise InputError(at, f"file names of imports may use play and extra variables only: {exc}") from None


def _include_key(kind: str, args: dict, scope: Scope, roles) -> tuple | None:
    """How `Loader.entering` knows the file or role an include names (None: not found)."""
    if kind == "include_role":
        try:
            directory = roles.find(str(args["name"]), Where("<include>"))
        except InputError:
            return None  # said by the load that follows
        return ("role", str(directory.resolve()), str(args.get("tasks_from", "main")))
    path = find(str(args["file"]), scope.search, "tasks")
    return ("file", str(Path(path).resolve())) if path else None


def walk(nodes: list):
    """Every task in a tree of tasks and blocks, in order."""
    for node in nodes:
        if isinstance(node, Block):
            yield from walk(node.block)
            yield from walk(node.rescue)
            yield from walk(node.always)
        else:
            yield node


def parse_task(node, at: Where, registry: Registry, allowed: set[str] = TASK_KEYS,
               scope: Scope = Scope()) -> Task:
    node = expect_mapping(node, at, "a task")
    for key in node:
        if isinstance(key, str) and key.startswith("with_") and key not in allowed:
            raise InputError(key_where(node, key), _unknown_loop_message(key, allowed))
    module_keys = [k for k in node if k not in allowed]
    if not module_keys:
        raise InputError(at, "the task names no module (e.g. 'file:', 'command:')")
    if len(module_keys) > 1:
        unknown = [k for k in module_keys if k not in registry]
        if unknown:
            raise InputError(key_where(node, unknown[0]), _unknown_key_message(unknown[0], allowed, registry))
        raise InputError(at, f"the task names more than one module: {', '.join(module_keys)}")
    key = module_keys[0]
    name, raw = _local_action(node) if key == "local_action" else (key, node[key])
    cls = registry.get(name)
    if cls is None:
        raise InputError(key_where(node, key), _unknown_key_message(name, allowed, registry))
    flags = dict(scope.overrides)
    _inherit(flags, keywords.read(node))
    args, arg_where = module_args(raw, node, key, cls)
    if key == "local_action":
        flags["delegate_to"] = "localhost"
        args.pop("module", None)
        arg_where.pop("module", None)
    _lint(cls, raw)
    extra = node.get("args")
    if extra is not None:
        extra = expect_mapping(extra, value_where(node, "args"), "'args'")
        _lint(cls, extra)
        for k in extra:
            arg_where[str(k)] = key_where(extra, k)
        args.update(plain(extra))
    _apply_defaults(args, arg_where, flags.get("module_defaults", ()), registry.resolve(name), registry, cls)
    if cls.collect_args:
        declared = {f.name for f in spec_fields(cls.Args)}
        collected = {k: args.pop(k) for k in list(args) if k not in declared}
        args[cls.collect_args] = {**args.get(cls.collect_args, {}), **collected}
    task = Task(name=str(node.get("name") or ""), module=registry.resolve(name), args=args, where=at,
                arg_where=arg_where, search=scope.search, role=scope.role)
    _task_keywords(task, node, scope, flags)
    _check_become(task, cls)
    validate_args(task, cls)
    return task


def _local_action(node) -> tuple[str, object]:
    """``local_action``'s module and its arguments: ``MODULE ARGS`` as text,
    or a mapping with ``module`` (which `parse_task` drops from the arguments)."""
    value = node["local_action"]
    if isinstance(value, dict) and isinstance(value.get("module"), str):
        return value["module"], value
    if isinstance(value, str) and value.strip():
        name, _, rest = value.strip().partition(" ")
        return name, rest.strip() or None
    raise InputError(value_where(node, "local_action"), "local_action needs a module: 'local_action: MODULE ARGS' "
                                                        "or a mapping with 'module'")


def _check_become(task: Task, cls) -> None:
    """A module that acts on the host runs as ``become_user`` only if it can
    do its work as any user (``as_user``); the others (packages, services,
    accounts) are the system's, and refused here rather than failing there."""
    if task.become_user is None or cls.on_controller or cls.as_user:
        return
    raise InputError(task.where, f"task '{task.title}': become_user '{task.become_user}' is not supported for "
                                 f"module '{task.module}', which manages the system as root; a module that "
                                 "works for any user (command, shell, file, copy, template, ...) can run as it")


def _apply_defaults(args: dict, arg_where: dict, defaults, module: str, registry: Registry, cls) -> None:
    """``module_defaults``: arguments the task does not give itself (by any
    of their names), the innermost default winning."""
    spelling = names_and_aliases(cls.Args)
    chosen: dict = {}
    for name, arg, value, at in defaults:
        if registry.resolve(name) == module:
            chosen[spelling.get(arg, arg)] = (arg, value, at)
    given = {spelling.get(k, k) for k in args}
    for canonical_name, (arg, value, at) in chosen.items():
        if canonical_name not in given:
            args[arg] = value
            arg_where[arg] = at


def _lint(cls, raw) -> None:
    """Warn about arguments that are valid but risky, as the file wrote them."""
    if not isinstance(raw, dict):
        return
    names = names_and_aliases(cls.Args)
    fields = {f.name: f for f in spec_fields(cls.Args)}
    for key, value in raw.items():
        lint = fields[names[key]].metadata.get("lint") if key in names else None
        message = lint(value) if lint else None
        if message:
            warn(key_where(raw, key), message)


def _unknown_key_message(key: str, allowed: set[str], registry: Registry) -> str:
    close = difflib.get_close_matches(key, registry.names() + sorted(allowed), n=1, cutoff=0.7)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown module or task keyword '{key}'{hint}"


def _unknown_loop_message(key: str, allowed: set[str]) -> str:
    loops = sorted(k for k in allowed if k.startswith("with_"))
    close = difflib.get_close_matches(key[5:], [k[5:] for k in loops], n=1, cutoff=0.7)
    hint = f"; did you mean 'with_{close[0]}'?" if close else ""
    return f"unknown loop '{key}': there is no lookup '{key[5:]}'{hint} (celeryroot has loop and {', '.join(loops)})"


def _task_keywords(task: Task, node, scope: Scope, flags: dict) -> None:
    task.tags = tuple(dict.fromkeys(scope.tags + _tags(node, "tags")))
    task.when = list(scope.when) + _when(node)
    task.notify = _strings(node, "notify")
    task.listen = _strings(node, "listen")
    if "register" in node:
        reg = node["register"]
        if not isinstance(reg, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", reg):
            raise InputError(value_where(node, "register"), f"'register' must be a variable name, got {reg!r}")
        task.register = reg
    for key in ("ignore_errors", "no_log", "check_mode", "diff", "run_once", "any_errors_fatal"):
        if key in node:
            flags[key] = _optional_bool(node, key)
    task.ignore_errors = bool(flags.get("ignore_errors"))
    task.no_log = bool(flags.get("no_log"))
    task.run_once = bool(flags.get("run_once"))
    task.any_errors_fatal = bool(flags.get("any_errors_fatal"))
    task.check_mode = flags.get("check_mode")
    task.diff = flags.get("diff")
    task.timeout = flags.get("timeout") or None
    task.throttle = flags.get("throttle", 0)
    task.delegate_to = flags.get("delegate_to")
    task.delegate_facts = bool(flags.get("delegate_facts"))
    user = flags.get("become_user")
    task.become = flags.get("become", False)
    task.become_user = user if task.become and user and user not in keywords.AS_THE_WORKER else None
    task.environment = {**flags.get("environment", {}),
                        **plain(expect_mapping(node.get("environment"), value_where(node, "environment"),
                                               "environment"))}
    task.vars = {**scope.vars, **plain(expect_mapping(node.get("vars"), value_where(node, "vars"), "task vars"))}
    _loop_keywords(task, node)
    task.changed_when = plain(node.get("changed_when"))
    task.failed_when = plain(node.get("failed_when"))
    task.until = plain(node.get("until"))
    for key, kind in (("retries", int), ("delay", float)):
        if key in node:
            try:
                setattr(task, key, kind(node[key]))
            except (TypeError, ValueError):
                raise InputError(value_where(node, key), f"'{key}' must be a number, got {node[key]!r}") from None
    if task.retries > MAX_RETRIES:
        raise InputError(value_where(node, "retries"), f"'retries' is {task.retries}; celeryroot retries a task at "
                                                       f"most {MAX_RETRIES} times (a longer 'delay' waits longer)")
    # As Ansible: no retries below none, and a negative delay (which sleep() refuses) is one second.
    task.retries, task.delay = max(0, task.retries), task.delay if task.delay >= 0 else 1.0


def _loop_keywords(task: Task, node) -> None:
    loops = [k for k in node if k in LOOP_KEYS]
    if len(loops) > 1:
        raise InputError(key_where(node, loops[1]), f"a task takes one loop, got {' and '.join(loops)}")
    if loops:
        task.loop = plain(node[loops[0]])
        task.loop_with = loops[0][len("with_"):] if loops[0] != "loop" else None
        if isinstance(task.loop, list):
            try:
                check_loop_size(task.loop)
            except TemplateFailure as exc:
                raise InputError(value_where(node, loops[0]), str(exc)) from None
    control = expect_mapping(node.get("loop_control"), value_where(node, "loop_control"), "loop_control")
    _reject_unknown(control, LOOP_CONTROL_KEYS, "loop_control key")
    task.loop_var = str(control.get("loop_var", "item"))
    task.label = plain(control.get("label"))
    task.index_var = control.get("index_var")


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
    try:
        return boolean(node[key])
    except ValueError:
        raise InputError(value_where(node, key), f"'{key}' must be a boolean, got {node[key]!r}") from None
