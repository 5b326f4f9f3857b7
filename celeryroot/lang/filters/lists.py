"""Filters of lists and numbers: set theory, combinatorics, random choice,
and sizes as people write them (``1.00 MB``)."""

from __future__ import annotations

import itertools
import math
import random as _random
import re
from collections.abc import Hashable, Mapping

from jinja2 import pass_environment
from jinja2.exceptions import FilterArgumentError
from jinja2.filters import do_unique

from .impure import impure


def flatten(value, levels=None, skip_nulls=True):
    out = []
    for item in value:
        if skip_nulls and item in (None, "None", "null"):
            continue
        if isinstance(item, (list, tuple)) and levels != 0:
            out.extend(flatten(item, None if levels is None else levels - 1, skip_nulls))
        else:
            out.append(item)
    return out


def _in_order(items) -> list:
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


@pass_environment
def unique(env, value, case_sensitive=False, attribute=None):
    """Jinja's ``unique`` (not case sensitive, by default), and for items
    that cannot be hashed (mappings), each first one in order."""
    try:
        return list(do_unique(env, value, case_sensitive, attribute))
    except TypeError:
        if attribute is not None:
            raise FilterArgumentError("unique: attribute needs items that can be hashed") from None
        return _in_order(value)


def _set_theory(on_sets, on_lists):
    """A filter of two collections: as sets when every item can be hashed
    (so the result is in a set's order, as in Ansible), else in list order."""
    def run(a, b):
        a, b = list(a), list(b)
        if all(isinstance(x, Hashable) for x in a + b):
            return list(on_sets(set(a), set(b)))
        return on_lists(a, b)
    return run


union = _set_theory(lambda a, b: a | b, lambda a, b: _in_order(a + b))
intersect = _set_theory(lambda a, b: a & b, lambda a, b: _in_order([x for x in a if x in b]))
difference = _set_theory(lambda a, b: a - b, lambda a, b: _in_order([x for x in a if x not in b]))
symmetric_difference = _set_theory(lambda a, b: a ^ b, lambda a, b: _in_order(
    [x for x in a if x not in b] + [x for x in b if x not in a]))


def _lists(tuples) -> list:
    return [list(t) for t in tuples]


def zip_filter(*lists):
    return _lists(zip(*lists))


def zip_longest(*lists, fillvalue=None):
    return _lists(itertools.zip_longest(*lists, fillvalue=fillvalue))


def product(*lists, repeat=1):
    return _lists(itertools.product(*lists, repeat=repeat))


def permutations(value, r=None):
    return _lists(itertools.permutations(value, r))


def combinations(value, r):
    return _lists(itertools.combinations(value, r))


def _generator(seed):
    """A seeded generator repeats its choices from run to run (``seed=inventory_hostname``)."""
    return _random.Random(seed) if seed else _random.SystemRandom()


def random(value, start=0, step=1, seed=None):
    """A number in ``range(start, value, step)``, or an item of a list."""
    rng = _generator(seed)
    if isinstance(value, int):
        return rng.randrange(start, value, step)
    if isinstance(value, Mapping) or not hasattr(value, "__iter__"):
        raise FilterArgumentError("random can only be used on sequences and integers")
    return rng.choice(list(value))


def shuffle(value, seed=None):
    items = list(value)
    _generator(seed).shuffle(items)
    return items


def log(value, base=math.e):
    return math.log10(value) if base == 10 else math.log(value, base)


def power(value, exponent):
    return math.pow(value, exponent)


def root(value, base=2):
    return math.sqrt(value) if base == 2 else math.pow(value, 1.0 / base)


#: Powers of 1024, from the largest.
UNITS = "YZEPTGMK"


def human_readable(size, isbits=False, unit=None):
    """``1048576`` as ``1.00 MB`` (``Mb`` with ``isbits``); ``unit`` fixes the prefix."""
    size = float(size)
    suffix, base = ("b", "bits") if isbits else ("B", "Bytes")
    for index, prefix in enumerate(UNITS):
        limit = 1024 ** (len(UNITS) - index)
        if (unit or "")[:1].upper() == prefix or (not unit and abs(size) >= limit):
            return f"{size / limit:.2f} {prefix}{suffix}"
    return f"{size:.2f} {base}"


_SIZE = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*")


def human_to_bytes(size, default_unit=None, isbits=False):
    """``'1.5 MB'`` as 1572864; with ``isbits`` the units are bits (``Mb``)."""
    match = _SIZE.fullmatch(str(size))
    if not match:
        raise FilterArgumentError(f"human_to_bytes() can't interpret {size!r}: expect a number and a unit "
                                  f"such as KB{' or Kb' if isbits else ''}")
    number, unit = float(match.group(1)), match.group(2) or default_unit or ""
    prefix, rest = unit[:1].upper(), unit[1:]
    whole = "bit" if isbits else "byte"
    if unit.lower() in ("", whole, whole + "s") or (unit == ("b" if isbits else "B")):
        return int(round(number))
    if prefix not in UNITS or rest not in ("", "b" if isbits else "B", whole, whole + "s"):
        raise FilterArgumentError(f"human_to_bytes() can't interpret {size!r}: the unit must be one of "
                                  f"{', '.join(p + ('b' if isbits else 'B') for p in reversed(UNITS))}")
    return int(round(number * 1024 ** (len(UNITS) - UNITS.index(prefix))))


FILTERS = {
    "flatten": flatten, "unique": unique, "union": union, "intersect": intersect, "difference": difference,
    "symmetric_difference": symmetric_difference, "zip": zip_filter, "zip_longest": zip_longest,
    "product": product, "permutations": permutations, "combinations": combinations,
    "random": impure(random), "shuffle": impure(shuffle), "log": log, "pow": power, "root": root,
    "human_readable": human_readable, "human_to_bytes": human_to_bytes,
}
