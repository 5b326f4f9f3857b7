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

from . import crypt, lists, paths, strings, structured
from .tests import TESTS

FILTERS = {**strings.FILTERS, **structured.FILTERS, **lists.FILTERS, **paths.FILTERS, **crypt.FILTERS}

#: ansible.builtin filters and tests that are not here, and why.
SKIPPED = {
    "vault": "celeryroot has no Ansible Vault: secrets come from its own encrypted credentials",
    "unvault": "celeryroot has no Ansible Vault: secrets come from its own encrypted credentials",
}

__all__ = ["FILTERS", "SKIPPED", "TESTS"]
