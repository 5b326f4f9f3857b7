"""Lookups: ``lookup('file'|'env'|'template', …)``, ``query`` and ``q``.

They run where templates render (the controller) and read what the
template's variables say: a relative path is looked up, as in Ansible, in
each directory of ``ansible_search_path`` (a role's directory, then the
playbook's; the step sets it per task), under ``files/`` or
``templates/`` first and then directly; without it, beside
``playbook_dir``, else in the working directory.

``lookup`` joins several results with commas (one result stays itself);
``query``/``q`` and ``wantlist=True`` return the list.
"""

from __future__ import annotations

import os

from jinja2 import pass_context
from jinja2.exceptions import TemplateRuntimeError

from ..module import ArgError
from .files import find_source


def search_path(context) -> tuple[str, ...]:
    dirs = context.get("ansible_search_path")
    if isinstance(dirs, str):
        return (dirs,)
    if dirs:
        return tuple(str(d) for d in dirs)
    return (str(context.get("playbook_dir") or os.getcwd()),)


def _find(context, name: str, subdir: str) -> str:
    try:
        return find_source(str(name), search_path(context), subdir, "lookup")
    except ArgError as exc:
        raise TemplateRuntimeError(str(exc)) from None


def _file(context, terms, lstrip=False, rstrip=True) -> list[str]:
    out = []
    for term in terms:
        with open(_find(context, term, "files"), encoding="utf-8") as fh:
            text = fh.read()
        text = text.rstrip() if rstrip else text
        out.append(text.lstrip() if lstrip else text)
    return out


def _env(context, terms, default="") -> list[str]:
    return [os.environ.get(str(term), default) for term in terms]


def _template(context, terms, template_vars=None) -> list[str]:
    variables = {**context.get_all(), **(template_vars or {})}
    return [context.environment.render_file(_find(context, term, "templates"), variables, search_path(context)) for term in terms]


LOOKUPS = {"file": _file, "env": _env, "template": _template}


@pass_context
def query(context, name: str, *terms, **options) -> list:
    plugin = LOOKUPS.get(name)
    if plugin is None:
        raise TemplateRuntimeError(f"lookup plugin '{name}' not found (celeryroot has: {', '.join(sorted(LOOKUPS))})")
    try:
        return plugin(context, terms, **options)
    except TypeError as exc:
        raise TemplateRuntimeError(f"lookup('{name}'): {exc}") from None


@pass_context
def lookup(context, name: str, *terms, wantlist: bool = False, **options):
    values = query(context, name, *terms, **options)
    if wantlist:
        return values
    if all(isinstance(v, str) for v in values):
        return ",".join(values)
    return values[0] if len(values) == 1 else values


GLOBALS = {"lookup": lookup, "query": query, "q": query}
