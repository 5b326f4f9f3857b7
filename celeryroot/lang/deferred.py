"""Values the controller cannot know before the run: a ``register``ed
result or a fact, when preflight renders and checks a task ahead of the
hosts. Templates render them as a marker that preflight recognises, and
arithmetic or an ordering on one is one again (``ansible_memtotal_mb * 2``
is as unknown as the fact), so a template of them renders instead of
failing on a value that is not there yet."""

from __future__ import annotations

from typing import Any


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

    def _unknown(self, *other) -> "Deferred":
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _unknown
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _unknown
    __pow__ = __rpow__ = __neg__ = __pos__ = __abs__ = __round__ = _unknown
    __lt__ = __le__ = __gt__ = __ge__ = _unknown


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
