"""The Jinja2 filters and tests of ansible.builtin, by Ansible's names and
with Ansible's arguments and results.

Jinja2's own (``default``/``d``, ``int``, ``join``, ``map``, ``select``,
``selectattr``, ``min``, ``max``, ``string``, ``mapping``, …) are kept as
they are: ansible.builtin lists them too. What is here are Ansible's
additions, in one module per kind; `SKIPPED` names the few of
ansible.builtin that are not, and why (tests/unit/test_filters.py holds
ansible-core 2.19's whole list against them).
"""

from __future__ import annotations

from functools import wraps

from jinja2 import Undefined

from . import crypt, lists, paths, strings, structured
from .tests import TESTS

#: The filters that take an undefined value on purpose.
TAKE_UNDEFINED = {"mandatory"}


def _defined_arguments(name: str, fn):
    """``fn``, failing with the undefined variable's own error when one of
    its arguments is undefined, as ansible-core's filters do: a variable
    whose template reads a missing one (a fact before the run) is then
    named as such, not reported as a dictionary or a string of the wrong
    kind (``combine expects dictionaries, got Undefined``)."""
    if name in TAKE_UNDEFINED:
        return fn

    @wraps(fn)
    def call(*args, **kwargs):
        for value in (*args, *kwargs.values()):
            if isinstance(value, Undefined):
                value._fail_with_undefined_error()
        return fn(*args, **kwargs)
    return call


FILTERS = {name: _defined_arguments(name, fn) for name, fn in {
    **strings.FILTERS, **structured.FILTERS, **lists.FILTERS, **paths.FILTERS, **crypt.FILTERS}.items()}

#: ansible.builtin filters and tests that are not here, and why.
SKIPPED = {
    "vault": "celeryroot has no Ansible Vault: secrets come from its own encrypted credentials",
    "unvault": "celeryroot has no Ansible Vault: secrets come from its own encrypted credentials",
}

__all__ = ["FILTERS", "SKIPPED", "TESTS"]
