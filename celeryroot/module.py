"""What a module is: a typed argument spec, observe → plan → apply, and a diff.

A module is one class in one file. Its ``Args`` is a frozen, keyword-only
dataclass whose fields are declared with `arg` (Ansible's names, defaults,
choices and aliases). The controller validates every task against it before
any host is contacted; the worker validates again before it runs. Rules
that tie arguments together (``state=link`` needs ``src``) are the spec's
own: an ``Args`` may define ``check()``, which raises `ArgError`, and it runs
wherever the spec is built, so on both sides too.

``plan()`` observes the host and returns the changes needed (empty: nothing
to do, with a one-line reason). Each `Change` carries its before/after, what
it creates and the work it does: a change that is a command to run
(``host.sysops.CommandChange``) is run by the runner, in order, and
``apply()`` performs the others from the plan alone. ``--check`` stops after
planning, so "would change" is "the plan is not empty", ``--diff`` is a view
of the changes' before/after, and what later tasks of a check run may take
as existing is the union of what the changes create (``Plan.creates``).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar

REQUIRED = dataclasses.MISSING
#: Ansible's boolean words (module_utils.parsing.convert_bool), in any case:
#: the one set for module arguments, play and task keywords (the bool
#: filter knows fewer: celeryroot/lang/filters/strings.py).
BOOLEANS = {"y": True, "yes": True, "on": True, "1": True, "true": True, "t": True,
            "n": False, "no": False, "off": False, "0": False, "false": False, "f": False}


def boolean(value: Any) -> bool:
    """``value`` read as Ansible reads a boolean; anything else is a ValueError."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower() if isinstance(value, (str, int, float)) else None
    if isinstance(value, float) and value in (0.0, 1.0):
        word = str(int(value))
    if word in BOOLEANS:
        return BOOLEANS[word]
    raise ValueError(f"expected a boolean (yes/no/true/false), got '{value}'")


class ModuleFailure(Exception):
    """A module could not do its job; becomes a ``failed`` result with ``data``."""

    def __init__(self, msg: str, **data):
        super().__init__(msg)
        self.msg = msg
        self.data = data


class ArgError(ValueError):
    """A task's arguments do not fit the module's spec."""

    def __init__(self, name: str | None, message: str):
        super().__init__(message)
        self.name = name


def regex(value) -> str:
    """An argument that is a regular expression (``convert=regex``): one
    that does not compile is refused where the argument is checked."""
    try:
        re.compile(str(value))
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return str(value)


def arg(default: Any = REQUIRED, *, choices: tuple = (), aliases: tuple = (),
        doc: str = "", convert=None, lint=None, host_path: bool = False):
    """Declare one module argument (a dataclass field with its metadata).

    ``lint`` looks at the value as the YAML file wrote it, when the task is
    loaded, and returns a warning for a valid but risky one (or None).
    ``host_path``: a path on the host, where ``~``, ``~user`` and ``$VAR``
    expand before the module runs (`on_host`), as Ansible's ``type=path``.
    """
    meta = {"choices": tuple(choices), "aliases": tuple(aliases), "doc": doc, "convert": convert,
            "lint": lint, "host_path": host_path}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


class Created:
    """The names of the check-mode overlay: what a change creates
    (``Change.creates``) and what a module asks about (`Context.would_exist`)
    are spelled by these, so both sides always agree."""

    @staticmethod
    def path(path: str) -> str:
        """A file, directory or link (any spelling of the same path is one name)."""
        return os.path.abspath(path)

    @staticmethod
    def package(name: str) -> str:
        return f"{PACKAGE}:{name}"

    @staticmethod
    def user(name: str) -> str:
        return f"{USER}:{name}"

    @staticmethod
    def group(name: str) -> str:
        return f"{GROUP}:{name}"

    @staticmethod
    def unlisted(package: str) -> str:
        """A package that would be installed, whose files could not be read:
        any path may be one of them (`Context.would_exist`)."""
        return f"{UNLISTED}:{package}"

    @staticmethod
    def source(path: str) -> str:
        """A file of apt's sources that would gain a source: a package
        apt cannot find yet may come from it."""
        return f"{SOURCE}:{os.path.abspath(path)}"


#: The kinds of names `Context.pending` lists.
UNLISTED, SOURCE, PACKAGE, USER, GROUP = "files-of", "apt-source", "package", "user", "group"


@dataclass(frozen=True)
class Change:
    """One thing the module will do: what it looks like before and after
    (``path`` heads the diff), and the names of what it creates (`Created`),
    which later tasks of a check run take as existing. Subclasses carry the
    work itself (a command, the bytes to write)."""

    what: str
    before: str | None = None
    after: str | None = None
    path: str | None = None
    creates: frozenset[str] = frozenset()

    def diff(self) -> dict | None:
        if self.before is None and self.after is None:
            return None
        label = self.path or self.what
        return {"before": self.before or "", "after": self.after or "",
                "before_header": label, "after_header": label}


@dataclass
class Plan:
    """The changes a module would make; ``reason`` says why there are none."""

    changes: list[Change] = field(default_factory=list)
    reason: str = ""
    data: dict = field(default_factory=dict)

    @property
    def creates(self) -> frozenset[str]:
        """What the plan would create: the check-mode overlay's new names."""
        return frozenset().union(*(change.creates for change in self.changes))


@dataclass(frozen=True)
class Context:
    """How a module is being run: check mode, diff, and the run's predictions.

    ``overlay`` holds the names (`Created`) of what earlier tasks of this
    run would have created in check mode, so a later task predicts
    ``changed`` instead of failing on something that does not exist yet.
    """

    check: bool = False
    diff: bool = False
    overlay: frozenset = frozenset()
    #: The host's variables, given only to modules that run on the controller.
    vars: dict = field(default_factory=dict, compare=False)
    #: The task's ``environment:``, for the commands a module runs.
    environment: dict = field(default_factory=dict, compare=False)
    #: The paths and accounts `would_exist` took as existing on a guess, for the result's message.
    assumed: list = field(default_factory=list, compare=False)

    def would_exist(self, name: str) -> bool:
        """Whether an earlier task of this check run would create ``name``
        (made with `Created`, as the change that creates it made it).

        A path is taken as existing, and noted in ``assumed``, when an
        earlier task would install a package whose files could not be
        read: it may ship the path, and a check must not fail where the
        real run may well succeed. So is a user or group when an earlier
        task would install any package: maintainer scripts create system
        accounts (haproxy's postinst its user and group), which no file
        list tells."""
        if not self.check:
            return False
        if name in self.overlay:
            return True
        if (name.startswith("/") and self.pending(UNLISTED)) or \
                (name.startswith((f"{USER}:", f"{GROUP}:")) and self.pending(PACKAGE)):
            self.assumed.append(name)
            return True
        return False

    def pending(self, kind: str) -> list[str]:
        """What earlier tasks of this check run would make of a ``kind``
        (`UNLISTED`: the packages whose files are unknown; `SOURCE`: apt's
        source files that gain a source)."""
        prefix = f"{kind}:"
        return sorted(n.removeprefix(prefix) for n in self.overlay if n.startswith(prefix)) if self.check else []


class Module:
    """Base class. The subclass docstring is the module's documentation."""

    name: ClassVar[str]
    Args: ClassVar[type]
    #: Argument that takes a free-form string (``command: ls -l``).
    free_form: ClassVar[str | None] = None
    #: A call whose effect cannot be predicted (command, shell) is skipped in
    #: check mode whenever its plan is not empty; a module may decide per
    #: call, with a property.
    predictable: bool = True
    #: Modules that only read the host's variables (debug, set_fact) run where
    #: the variables are instead of being sent to the worker.
    on_controller: ClassVar[bool] = False
    #: Whether the module does its work as any user, so that ``become_user``
    #: can run it as one (engine/become.py); the others manage the system.
    as_user: ClassVar[bool] = False
    #: For modules that take arbitrary keys (set_fact): the argument that
    #: collects every key the spec does not declare.
    collect_args: ClassVar[str | None] = None
    #: Why a module's results need the controller (fetch writes the file
    #: its result carries, `on_controller_result`): its plays run linearly,
    #: where each result comes back to the controller before it is used,
    #: unless it names `comes_home`.
    needs_controller: ClassVar[str | None] = None
    #: For such a module that may run in a whole-play bundle: the arguments
    #: naming where on the controller it acts (fetch's ``dest``, ``flat``).
    #: Written so that they are known before the run, the bundle carries
    #: what the controller has there (`controller_place`, seen through
    #: `in_bundle`) and its answer what the results carry (engine/carried.py).
    comes_home: ClassVar[tuple[str, ...]] = ()

    def __init__(self, args, ctx: Context):
        self.args = args
        self.ctx = ctx

    @classmethod
    def on_controller_prepare(cls, args, variables: dict, search: tuple[str, ...]):
        """Turn a task's built arguments (an ``Args``) into what is sent to the worker (an ``Args``).

        Runs on the controller before dispatch (template renders its source
        here; copy reads a local ``src``). ``search`` lists the directories
        where relative ``src`` paths are looked up, most specific first (a
        role's directory, then the playbook's); a module looks in the
        ``templates/`` or ``files/`` subfolder of each, then the folder itself.
        Raise `ArgError` for a bad argument. The arguments arrive built and
        checked (``Args.check``), so combinations are already known good.
        """
        return args

    @classmethod
    def on_controller_result(cls, args, res: dict) -> dict:
        """Act on a result on the controller, before it is judged, registered
        or reported; return the result to use (without ``result.FOR_CONTROLLER``).
        ``args`` are the call's, as `on_controller_prepare` made them. Only
        for a module that sets ``needs_controller``."""
        return res

    @classmethod
    def controller_place(cls, args: dict, host: str, search: tuple[str, ...]) -> str | None:
        """For a module with `comes_home`: the file, or the folder, on the
        controller where a task of ``host`` acts, from its `comes_home`
        argument (and those it depends on) rendered in ``args``."""
        return None

    @classmethod
    def in_bundle(cls, args, copy_checksum):
        """For a module with `comes_home`: ``args`` (as `on_controller_prepare`
        made them inside a bundle) seen with the controller's files, whose
        checksums ``copy_checksum(path)`` gives (None: no such file)."""
        return args

    @classmethod
    def acts_on(cls, args) -> str:
        """For a module with `comes_home`: the controller's path a call with
        these arguments acts on (it must lie in the task's `controller_place`)."""
        raise NotImplementedError

    @classmethod
    def fact_names(cls, raw_args: dict, search: tuple[str, ...] = ()) -> set[str]:
        """The variables a task with these arguments (as the playbook wrote
        them, its files looked up on ``search``) sets as facts: preflight
        takes them as known, their values coming at run time."""
        return set()

    def plan(self) -> Plan:
        raise NotImplementedError

    def apply(self, plan: Plan) -> dict:
        """Perform the plan's changes that are not commands, from the plan
        alone (the runner has run its commands by then); return extra result
        data (rc, stdout, …). A module whose changes are all commands needs
        none of its own."""
        return {}

    @classmethod
    def summary(cls) -> str:
        """The docstring's first paragraph, on one line."""
        doc = inspect.getdoc(cls) or ""
        return " ".join(doc.split("\n\n")[0].split())


# -- argument specs ---------------------------------------------------------

@functools.lru_cache(maxsize=None)
def spec_fields(args_cls: type) -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(args_cls)


@functools.lru_cache(maxsize=None)
def type_hints(args_cls: type) -> dict:
    """An Args class's annotations, resolved once (typing's lookup is slow)."""
    return typing.get_type_hints(args_cls)


def names_and_aliases(args_cls: type) -> dict[str, str]:
    """Map every accepted spelling of an argument to its field name."""
    table = {}
    for f in spec_fields(args_cls):
        table[f.name] = f.name
        for alias in f.metadata.get("aliases", ()):
            table[alias] = f.name
    return table


def canonical(args_cls: type, raw: dict) -> tuple[dict, list[ArgError]]:
    """Rename aliases and find unknown and missing arguments, without types."""
    table = names_and_aliases(args_cls)
    out, errors = {}, []
    for key, value in raw.items():
        if key not in table:
            known = ", ".join(sorted(f.name for f in spec_fields(args_cls)))
            errors.append(ArgError(key, f"unsupported argument '{key}' (known: {known})"))
            continue
        name = table[key]
        if name in out:
            errors.append(ArgError(key, f"argument '{name}' given twice (as '{key}')"))
        out[name] = value
    for f in spec_fields(args_cls):
        if _required(f) and f.name not in out:
            errors.append(ArgError(f.name, f"missing required argument '{f.name}'"))
    return out, errors


def _required(f: dataclasses.Field) -> bool:
    return f.default is REQUIRED and f.default_factory is REQUIRED


def build_args(args_cls: type, raw: dict, deferred=None):
    """Validate ``raw`` against the spec; return an ``Args`` instance.

    Values for which ``deferred(value)`` is true (stand-ins for what only the
    run knows) pass through unconverted, and the answer is None; this is how
    preflight checks a playbook before it knows every variable. The spec's
    ``check()``, if it has one, judges the arguments together.
    """
    values, errors = canonical(args_cls, raw)
    if errors:
        raise errors[0]
    hints = type_hints(args_cls)
    for f in spec_fields(args_cls):
        if f.name not in values:
            continue
        value = values[f.name]
        if deferred is not None and deferred(value):
            continue
        values[f.name] = convert_value(f, hints[f.name], value)
    if deferred is not None and any(deferred(v) for v in values.values()):
        return None
    args = args_cls(**values)
    if hasattr(args, "check"):
        args.check()
    return args


def convert_value(f: dataclasses.Field, hint: Any, value: Any) -> Any:
    convert = f.metadata.get("convert")
    try:
        value = convert(value) if convert and value is not None else _coerce(hint, value)
    except (TypeError, ValueError) as exc:
        raise ArgError(f.name, f"argument '{f.name}': {exc}") from None
    choices = f.metadata.get("choices") or ()
    if choices and value is not None and value not in choices:
        shown = ", ".join(str(c) for c in choices)
        raise ArgError(f.name, f"argument '{f.name}' must be one of: {shown}; got '{value}'")
    return value


def _coerce(hint: Any, value: Any) -> Any:
    """Convert a YAML value to the annotated type the way Ansible does."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        last: Exception | None = None
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(option, value)
            except (TypeError, ValueError) as exc:
                last = exc
        raise last or TypeError("no matching type")
    if hint is Any:
        return value
    if value is None:
        raise TypeError("a value is required, got nothing (null)")
    if hint is bool:
        return boolean(value)
    if hint is int:
        if isinstance(value, bool):
            raise TypeError("expected an integer, got a boolean")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise ValueError(f"expected an integer, got '{value}'")
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        try:
            return float(str(value))
        except ValueError:
            raise ValueError(f"expected a number, got '{value}'") from None
    if hint is str:
        if isinstance(value, (dict, list)):
            raise TypeError(f"expected a string, got a {'mapping' if isinstance(value, dict) else 'list'}")
        if isinstance(value, bool):
            return "True" if value else "False"
        return str(value)
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise TypeError(f"expected a list, got '{value}'")
        return tuple(_coerce(item, v) for v in value)
    if hint is dict or origin is dict:
        if not isinstance(value, dict):
            raise TypeError(f"expected a mapping, got '{value}'")
        return dict(value)
    raise TypeError(f"unsupported argument type {hint}")


def on_host(args):
    """``args`` with its host paths expanded where the module runs: ``~`` is
    the home of the user the worker runs as there, not the controller's."""
    expanded = {f.name: os.path.expanduser(os.path.expandvars(value)) for f in spec_fields(type(args))
                if f.metadata.get("host_path") and isinstance(value := getattr(args, f.name), str)}
    return dataclasses.replace(args, **expanded) if expanded else args


def to_wire(args) -> dict:
    """An Args instance as a JSON-safe dict (tuples become lists)."""
    out = {}
    for f in spec_fields(type(args)):
        value = getattr(args, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out
