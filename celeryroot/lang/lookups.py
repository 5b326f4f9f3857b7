"""Lookups: ``lookup(NAME, …)``, ``query``/``q``, and the ``with_NAME`` loops.

They run where templates render, on the controller, as in Ansible. Each
plugin (lookup_data.py, lookup_files.py) takes the template's context and
its terms and returns a list:

- ``query``/``q`` and ``wantlist=True`` return that list;
- ``lookup`` returns its only item, or its items joined with commas when
  all are strings, else the list (an empty one stays empty);
- ``errors='warn'`` or ``'ignore'`` turn a failure into ``None`` (``[]``
  with ``wantlist``), warning on stderr or not; ``'strict'`` (the default)
  fails the template. An undefined variable among the terms always fails.

``with_NAME: TERMS`` loops over ``query(NAME, *TERMS)`` (TERMS rendered,
a single value taken as a list of one).
"""

from __future__ import annotations

import re

from jinja2 import pass_context
from jinja2.exceptions import TemplateRuntimeError, UndefinedError

from . import lookup_data, lookup_files
from .source import warn

LOOKUPS = {**lookup_data.LOOKUPS, **lookup_files.LOOKUPS}
ERRORS = ("strict", "warn", "ignore")
#: Lookups whose answer is the controller's own: its commands, its password
#: files, its environment, the run's whole inventory. A whole-play bundle
#: runs its templates on the host, so a play that calls one runs linearly.
CONTROLLER_ONLY = frozenset({"pipe", "lines", "password", "env", "inventory_hostnames"})
_CALL = re.compile(r"""\b(?:lookup|query|q)\s*\(\s*['"](\w+)['"]""")


def named_in(value) -> set[str]:
    """The lookups a task's or a variable's text calls by name, anywhere inside it."""
    if isinstance(value, dict):
        return set().union(*(named_in(k) | named_in(v) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return set().union(*(named_in(v) for v in value))
    return set(_CALL.findall(value)) if isinstance(value, str) else set()


def run(context, name: str, terms: list, options: dict) -> list | None:
    """The plugin's list; None when it failed and ``errors`` says go on."""
    plugin = LOOKUPS.get(name)
    if plugin is None:
        raise TemplateRuntimeError(f"lookup plugin '{name}' not found (celeryroot has: {', '.join(sorted(LOOKUPS))})")
    errors = options.pop("errors", "strict")
    if errors not in ERRORS:
        raise TemplateRuntimeError(f"lookup('{name}'): errors must be one of {', '.join(ERRORS)}, got {errors!r}")
    try:
        return list(plugin(context, list(terms), **options))
    except UndefinedError:
        raise
    except Exception as exc:  # as Ansible: whatever the plugin raises is the lookup's failure
        message = f"lookup('{name}'): {exc}"
        if errors == "strict":
            raise TemplateRuntimeError(message) from None
        if errors == "warn":
            warn(None, f"an error occurred while running the lookup plugin '{name}': {message}")
        return None


@pass_context
def query(context, name: str, *terms, wantlist: bool = True, **options) -> list:
    return _query(context, name, terms, options)


def _query(context, name: str, terms, options: dict) -> list:
    values = run(context, name, terms, dict(options))
    return [] if values is None else values


@pass_context
def lookup(context, name: str, *terms, wantlist: bool = False, **options):
    values = run(context, name, terms, dict(options))
    if values is None:
        return [] if wantlist else None
    if wantlist or not values:
        return values
    if len(values) == 1:
        return values[0]
    return ",".join(values) if all(isinstance(v, str) for v in values) else values


def loop_items(context, name: str, terms, module: str) -> list:
    """The items of ``with_NAME: terms`` on a task of ``module``."""
    options = {}
    if name == "first_found":
        # As Ansible: with_first_found looks in the folder of the module's kind first.
        options["subdir"] = "templates" if "template" in module else "vars" if "var" in module else "files"
    return _query(context, name, terms if isinstance(terms, list) else [terms], options)


GLOBALS = {"lookup": lookup, "query": query, "q": query}
