"""Filters and tests whose result is not a function of their arguments."""

from __future__ import annotations

import functools

from jinja2 import pass_context


def impure(func):
    """``func``, never run while Jinja compiles a template: Jinja calls a
    filter or test on constants once, at compile time, and keeps the result
    in the compiled template (which templating.py caches), so ``'%H:%M' |
    strftime``, ``100 | random`` or ``'/run/x' is exists`` would never
    change. A filter that takes Jinja's context is never called early."""
    @pass_context
    @functools.wraps(func)
    def call(_context, *args, **kwargs):
        return func(*args, **kwargs)
    return call
