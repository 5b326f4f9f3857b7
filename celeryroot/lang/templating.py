"""Jinja2 as Ansible users write it: StrictUndefined, native single expressions.

A string that is one expression (``"{{ ports }}"``) renders to the value
itself (a list stays a list); anything else renders to a string. An undefined
variable is an error that names it.

Templates render in Jinja's sandbox, with bounds on the two operators that
can make a value of any size from a short expression (``9 ** (9 ** 9)``,
``'A' * 20000000000``): the controller renders every host's tasks, and a
template must not be able to hang it or exhaust its memory. Whatever a
template raises (a division by zero too) becomes a `TemplateFailure`.
"""

from __future__ import annotations

import math
import os
import re
import traceback
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from jinja2 import (ChainableUndefined, FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError,
                    Undefined, UndefinedError)
from jinja2.lexer import Lexer
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from . import filters, lookups

#: The longest string or list a template may make with ``*``, and the most
#: digits of an integer it may make with ``**`` (Python's own limit for
#: turning an integer into text).
MAX_REPEAT = 1_000_000
MAX_POWER_DIGITS = 4300

#: One expression and nothing else, but for one newline at the end, which
#: Jinja drops from an inline template: as in Ansible, ``"{{ 5 }}\n"`` is
#: the number 5 while ``" {{ 5 }}"`` is the string " 5".
_SINGLE = re.compile(r"\A\{\{(?P<expr>.*)\}\}\n?\Z", re.S)


class TemplateFailure(Exception):
    """A template could not be rendered; the message names the cause."""


class UndefinedFailure(TemplateFailure):
    """A template used a variable nobody defined; ``message`` names it."""

    def __init__(self, message: str):
        super().__init__(f"undefined variable: {message}")
        self.message = message


class AnsibleUndefined(ChainableUndefined, StrictUndefined):
    """As in Ansible, ``a.b.c | default(x)`` and ``a.b is defined`` work when
    ``a`` is missing; any other use of an undefined value is an error naming it."""


class Lazy:
    """A variable's value that holds templates and comes from the playbook's
    own text (role defaults, inventory, play and task vars, vars files,
    extra vars): rendered each time a template reads it, with that
    template's variables, as Ansible renders its variables. So a role
    default of a play var, or a play var of ``playbook_dir`` or of a task's
    vars, is what the task means. Results, facts and set_fact values are
    data and never wrapped: braces in them are text."""

    __slots__ = ("raw",)

    def __init__(self, raw: Any):
        self.raw = raw

    def __repr__(self) -> str:
        return f"Lazy({self.raw!r})"


def lazy(values: dict) -> dict:
    """``values`` with each value that holds a template made `Lazy`."""
    return {k: Lazy(v) if _templated(v) else v for k, v in values.items()}


def _templated(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_templated(v) for v in value.values())
    if isinstance(value, list):
        return any(_templated(v) for v in value)
    return is_template(value)


#: The variables being rendered, innermost last: ``a: "{{ b }}", b: "{{ a }}"`` is an error, not a hang.
_REALISING: ContextVar[tuple[str, ...]] = ContextVar("realising", default=())


def realise(name: str, value: Any, variables: dict, undefined=None) -> Any:
    """The value of variable ``name``, rendered with ``variables`` if it is
    `Lazy`. With ``undefined`` (a Jinja undefined class), a variable whose
    template uses an undefined one is itself undefined, so ``| default``
    and ``is defined`` treat it as Ansible does."""
    if not isinstance(value, Lazy):
        return value
    outer = _REALISING.get()
    if name in outer:
        raise TemplateFailure(f"recursive loop in variables: {' -> '.join((*outer[outer.index(name):], name))}")
    token = _REALISING.set((*outer, name))
    try:
        return render(value.raw, variables)
    except UndefinedFailure as exc:
        if undefined is None:
            raise
        return undefined(hint=f"{exc.message} (in variable '{name}')", name=name)
    finally:
        _REALISING.reset(token)


class LazyContext(Context):
    """Jinja's context, rendering a `Lazy` variable when a template reads it."""

    def resolve_or_missing(self, key: str) -> Any:
        value = super().resolve_or_missing(key)
        if isinstance(value, Lazy):
            return realise(key, value, self.parent, self.environment.undefined)
        return value


class BackslashLexer(Lexer):
    r"""Jinja's lexer, but a backslash in a string constant inside ``{{ }}``
    stays a backslash, as in ansible-core: YAML has already read the text's
    escapes once, so ``"{{ x | regex_replace('(\\d+)', '<\\1>') }}"`` in a
    double-quoted YAML string means the regex ``(\d+)`` and the group
    ``\1`` (Jinja alone would make ``'\1'`` the character U+0001)."""

    def tokeniter(self, source, name, filename=None, state=None):
        inside = state == "variable"  # a bare expression starts inside
        for lineno, token, value in super().tokeniter(source, name, filename, state):
            if token in ("variable_begin", "variable_end"):
                inside = token == "variable_begin"
            elif inside and token == "string":
                value = value.replace("\\", "\\\\")  # Jinja's unescaping gives the text back
            yield lineno, token, value


class AnsibleEnvironment(SandboxedEnvironment):
    """Jinja with Ansible's filters, tests and lookups, and template files
    rendered with the file and line of an error (the template lookup reaches
    this through its context's environment).

    With ``keep_backslashes``, string constants keep their backslashes
    (`BackslashLexer`): so are templates in a playbook's values read, but
    not conditions (``when:``) nor template files, as in ansible-core."""

    intercepted_binops = frozenset({"*", "**"})
    context_class = LazyContext
    keep_backslashes = False

    @property
    def lexer(self) -> Lexer:
        if not self.keep_backslashes:
            return super().lexer
        if "_backslash_lexer" not in self.__dict__:
            self._backslash_lexer = BackslashLexer(self)
        return self._backslash_lexer

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        _check_size(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def render_file(self, path: str, variables: dict, search: tuple[str, ...]) -> str:
        """Render the template at ``path``; its includes are looked for beside
        it, then in the search path's ``templates/`` folders and the folders."""
        folders = [os.path.dirname(path)] + [os.path.join(d, "templates") for d in search] + list(search)
        env = self.overlay(loader=FileSystemLoader(folders))
        env.keep_backslashes = False
        try:
            return env.get_template(os.path.basename(path)).render(variables)
        except TemplateFailure:
            raise  # from a template it looked up, which names its own file
        except TemplateSyntaxError as exc:
            raise TemplateFailure(f"template {exc.filename or path}:{exc.lineno}: syntax error: {exc.message}") \
                from None
        except (UndefinedError, TemplateError) as exc:
            what = "undefined variable" if isinstance(exc, UndefinedError) else "error"
            raise TemplateFailure(f"template {_template_line(exc, path)}: {what}: {exc.message or exc}") from None
        except Exception as exc:
            raise TemplateFailure(f"template {_template_line(exc, path)}: error: {cause(exc)}") from None


def _check_size(operator: str, left: Any, right: Any) -> None:
    """Refuse a ``*`` or ``**`` whose result would exceed the bounds, before computing it."""
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, (str, bytes, list, tuple)) and isinstance(times, int) and \
                    len(seq) * times > MAX_REPEAT:
                raise SecurityError(f"{type(seq).__name__} * {times} would hold {len(seq) * times} items; a "
                                    f"template may make at most {MAX_REPEAT}")
    elif isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0:
        if right * math.log10(abs(left)) > MAX_POWER_DIGITS:
            raise SecurityError(f"{left} ** {right} has more than the {MAX_POWER_DIGITS} digits a template may make")


def cause(exc: BaseException) -> str:
    """What an unexpected exception of a filter or operator says, and its kind."""
    text = str(exc) or {MemoryError: "out of memory"}.get(type(exc), "")
    return f"{text} ({type(exc).__name__})" if text else type(exc).__name__


def _template_line(exc: Exception, path: str) -> str:
    """The template file and line where rendering failed: Jinja rewrites the
    traceback so that template frames carry the template's own line numbers."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.endswith(".py")]
    if not frames:
        return path
    return f"{frames[-1].filename}:{frames[-1].lineno}"


def _environment() -> AnsibleEnvironment:
    env = AnsibleEnvironment(undefined=AnsibleUndefined, keep_trailing_newline=True, trim_blocks=True)
    env.filters.update(filters.FILTERS)
    env.tests.update(filters.TESTS)
    env.globals.update(lookups.GLOBALS)
    return env


ENV = _environment()
#: Where a playbook's values render: `BackslashLexer`'s string constants.
VALUES = ENV.overlay()
VALUES.keep_backslashes = True


@lru_cache(maxsize=4096)
def single_expression(text: str) -> str | None:
    """The expression of a string that is exactly one ``{{ … }}``, else None.

    Jinja's lexer decides, so a dict literal inside (``{{ a | combine({'b':
    {'c': 1}}) }}``) does not end the expression at its closing braces.
    """
    match = _SINGLE.match(text)
    if not match:
        return None
    try:
        kinds = [kind for _, kind, _ in ENV.lex(text.strip())]
    except TemplateError:
        return None  # rendered as text, which reports the syntax error
    if kinds[0] == "variable_begin" and kinds[-1] == "variable_end" and kinds.count("variable_begin") == 1:
        return match.group("expr")
    return None


@lru_cache(maxsize=4096)
def _compile_template(text: str):
    return VALUES.from_string(text)


@lru_cache(maxsize=4096)
def _compile_expression(text: str, env: AnsibleEnvironment = ENV):
    return env.compile_expression(text, undefined_to_none=False)


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value or "{#" in value)


def reads_any(value: Any, names: frozenset, expressions: bool = False) -> bool:
    """Whether a template anywhere in ``value`` (dicts, keys too, and lists)
    may read a variable of ``names``. With ``expressions``, a plain string
    value is also taken for a bare expression (``when: x in groups``). A
    template that does not parse may read anything: it is said to."""
    if isinstance(value, dict):
        return any(reads_any(k, names) or reads_any(v, names, expressions) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(reads_any(v, names, expressions) for v in value)
    if not isinstance(value, str):
        return False
    if is_template(value):
        found = _names_in(value)
        return found is None or not found.isdisjoint(names)
    # A plain string that is no expression is never evaluated as one.
    return expressions and not (_names_in("{{ " + value + " }}") or set()).isdisjoint(names)


@lru_cache(maxsize=4096)
def _names_in(text: str) -> frozenset | None:
    """The variables a template reads from its context (Jinja's own
    analysis), and the globals it calls (``lookup``: Jinja's analysis
    leaves them out); None when it does not parse."""
    from jinja2 import meta, nodes

    try:
        tree = ENV.parse(text)
        # The analysis compiles the tree, which refuses an unknown test or
        # filter: a task named "apache is installed", read as an expression.
        undeclared = meta.find_undeclared_variables(tree)
    except TemplateError:
        return None
    return frozenset(undeclared) | {n.name for n in tree.find_all(nodes.Name) if n.name in ENV.globals}


def names_read(value: Any, expression: bool = False) -> frozenset | None:
    """The variables the templates in ``value`` read (a plain string is a
    bare expression with ``expression``, as ``when:`` is); None when one
    does not parse, and so may read anything."""
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple)):
        found: set = set()
        for item in value:
            names = names_read(item, expression)
            if names is None:
                return None
            found |= names
        return frozenset(found)
    if not isinstance(value, str):
        return frozenset()
    if is_template(value):
        return _names_in(value)
    return _names_in("{{ " + value + " }}") if expression else frozenset()


_PLAIN_NAMES = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}")
_PLAIN_ONLY = re.compile(r"(?:[^{]|\{(?![{%#]))*")


def _substitute(text: str, variables: dict) -> str | None:
    """Render ``"{{ a }}/x/{{ b.c }}"`` without compiling a template: most
    arguments only name variables, and compiling costs far more than looking
    them up. None when anything else is in the text, or a name is missing
    (Jinja then renders it, or names what is undefined)."""
    parts = _PLAIN_NAMES.split(text)
    if len(parts) == 1 or not all(_PLAIN_ONLY.fullmatch(p) for p in parts[::2]):
        return None
    for index in range(1, len(parts), 2):
        value = variables
        for name in parts[index].split("."):
            if not isinstance(value, dict) or name not in value:
                return None
            value = value[name]
        if isinstance(value, (dict, list, Undefined, Lazy)) or (isinstance(value, str) and is_template(value)):
            return None
        parts[index] = str(value)
    return "".join(parts)


def render(value: Any, variables: dict) -> Any:
    """Render every string inside ``value`` (dicts and lists included)."""
    if isinstance(value, str):
        if not is_template(value):
            return value
        expression = single_expression(value)
        if expression is None and (fast := _substitute(value, variables)) is not None:
            return fast
        with _failures(f"template error in {_excerpt(value)}"):
            if expression is not None:
                result = _native(_compile_expression(expression, VALUES)(**variables))
                # Ansible gives a string back the newline Jinja dropped:
                # "{{ motd }}\n" ends with one, "{{ 5 }}\n" is still 5.
                return result + "\n" if isinstance(result, str) and value.endswith("\n") else result
            return _compile_template(value).render(variables)
    if isinstance(value, dict):
        return {k: render(v, variables) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [render(v, variables) for v in value]
    return value


def loop_terms(name: str, raw: Any, variables: dict) -> Any:
    """The terms of ``with_NAME: raw``, rendered. ``with_first_found`` drops
    those that use an undefined variable, as Ansible's does: a file named
    after a fact the host lacks is no candidate, not an error."""
    if name != "first_found":
        return render(raw, variables)

    def defined(value):
        if isinstance(value, dict):
            return {k: v for k, v in ((k, defined(v)) for k, v in value.items()) if v is not _DROPPED}
        if isinstance(value, list):
            return [v for v in map(defined, value) if v is not _DROPPED]
        try:
            return render(value, variables)
        except UndefinedFailure:
            return _DROPPED

    terms = defined(raw)
    return [] if terms is _DROPPED else terms


_DROPPED = object()


def loop_lookup(name: str, terms: Any, variables: dict, module: str) -> list:
    """The items of ``with_NAME: terms`` (terms rendered already), the lookup
    run with the task's variables as a template would run it."""
    context = ENV.context_class(ENV, variables, None, {}, ENV.globals)
    with _failures(f"with_{name}"):
        return lookups.loop_items(context, name, terms, module)


@contextmanager
def _failures(what: str):
    """Whatever rendering raises, as a `TemplateFailure` saying ``what``
    failed (an undefined variable as `UndefinedFailure`), never a traceback."""
    try:
        yield
    except TemplateFailure:
        raise
    except UndefinedError as exc:
        raise UndefinedFailure(exc.message) from None
    except Exception as exc:
        raise TemplateFailure(f"{what}: {exc if isinstance(exc, TemplateError) else cause(exc)}") from None


def evaluate(expression: str, variables: dict) -> Any:
    """Evaluate a bare expression (``when:``, ``debug: var=``). Its string
    constants' backslashes are escapes, as in ansible-core; in one written
    as a template (``when: "{{ … }}"``) they stay, as in any template."""
    expression = expression.strip()
    inner = single_expression(expression)
    env, expression = (ENV, expression) if inner is None else (VALUES, inner)
    try:
        return _native(_compile_expression(expression, env)(**variables))
    except (UndefinedError, TemplateFailure):
        raise
    except TemplateError as exc:
        raise TemplateFailure(f"cannot evaluate {_excerpt(expression)}: {exc}") from None
    except Exception as exc:
        raise TemplateFailure(f"cannot evaluate {_excerpt(expression)}: {cause(exc)}") from None


def _excerpt(text: str, most: int = 200) -> str:
    """A template as an error quotes it: a long one is cut."""
    return repr(text) if len(text) <= most else repr(text[:most]) + "…"


def condition(expression: Any, variables: dict) -> bool:
    """A ``when`` clause: a bool, a string expression, or a list (all must hold)."""
    if isinstance(expression, list):
        return all(condition(e, variables) for e in expression)
    if isinstance(expression, bool):
        return expression
    try:
        value = evaluate(str(expression), variables)
    except UndefinedError as exc:
        raise TemplateFailure(f"undefined variable in condition {expression!r}: {exc.message}") from None
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "no", "0", "none", "off")
    return bool(value)


def _native(value: Any) -> Any:
    """``value``, unless it is undefined or holds an undefined value
    (``[x.missing]``, ``names | map('extract', hostvars, 'nope')``): then
    the error that names the missing variable, as Ansible's."""
    if isinstance(value, StrictUndefined):
        str(value)  # raises with the name of the missing variable
    elif isinstance(value, (list, tuple)):
        for item in value:
            _native(item)
    elif isinstance(value, dict):
        for item in value.values():
            _native(item)
    return value
