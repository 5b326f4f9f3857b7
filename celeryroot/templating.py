"""Jinja2 as Ansible users write it: StrictUndefined, native single expressions.

A string that is one expression (``"{{ ports }}"``) renders to the value
itself (a list stays a list); anything else renders to a string. An undefined
variable is an error that names it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jinja2 import Environment, StrictUndefined, TemplateError, UndefinedError

_SINGLE = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\}\s*$", re.S)


class TemplateFailure(Exception):
    """A template could not be rendered; the message names the cause."""


def _environment() -> Environment:
    from . import filters

    env = Environment(undefined=StrictUndefined, keep_trailing_newline=True,
                                        trim_blocks=True)
    filters.install(env)
    return env


ENV = _environment()


@lru_cache(maxsize=4096)
def _compile_template(text: str):
    return ENV.from_string(text)


@lru_cache(maxsize=4096)
def _compile_expression(text: str):
    return ENV.compile_expression(text, undefined_to_none=False)


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value or "{#" in value)


def render(value: Any, variables: dict) -> Any:
    """Render every string inside ``value`` (dicts and lists included)."""
    if isinstance(value, str):
        if not is_template(value):
            return value
        match = _SINGLE.match(value)
        try:
            if match:
                return _native(_compile_expression(match.group("expr"))(**variables))
            return _compile_template(value).render(variables)
        except UndefinedError as exc:
            raise TemplateFailure(f"undefined variable: {exc.message}") from None
        except TemplateError as exc:
            raise TemplateFailure(f"template error in {value!r}: {exc}") from None
    if isinstance(value, dict):
        return {k: render(v, variables) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [render(v, variables) for v in value]
    return value


def evaluate(expression: str, variables: dict) -> Any:
    """Evaluate a bare expression (``when:``, ``debug: var=``)."""
    expression = expression.strip()
    match = _SINGLE.match(expression)
    if match:
        expression = match.group("expr")
    try:
        return _native(_compile_expression(expression)(**variables))
    except UndefinedError:
        raise
    except TemplateError as exc:
        raise TemplateFailure(f"cannot evaluate {expression!r}: {exc}") from None


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
    if isinstance(value, StrictUndefined):
        str(value)  # raises with the name of the missing variable
    return value


class Deferred:
    """Stands for a value only known at run time (a ``register``ed result)
    when the controller checks a playbook before running it."""

    def __getattr__(self, name: str) -> "Deferred":
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __getitem__(self, key) -> "Deferred":
        return self

    def __iter__(self):
        return iter(())

    def __call__(self, *args, **kwargs) -> "Deferred":
        return self

    def __bool__(self) -> bool:
        return False

    def __str__(self) -> str:
        return DEFERRED_TEXT

    def __eq__(self, other) -> bool:
        return isinstance(other, Deferred)

    def __hash__(self) -> int:
        return 0

    def __len__(self) -> int:
        return 0


DEFERRED_TEXT = "\x00deferred\x00"


def contains_deferred(value: Any) -> bool:
    if isinstance(value, Deferred):
        return True
    if isinstance(value, str):
        return DEFERRED_TEXT in value
    if isinstance(value, dict):
        return any(contains_deferred(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_deferred(v) for v in value)
    return False
