"""The few Redis calls the controller's stores make, answered from memory.

The fact cache and the pending handlers are each written once,
against a redis-py client; where there is no Redis (the embedded mode, a
bundle running on its host) they are handed `MemoryKeys` instead. Values
come back as bytes and expire as in Redis, so a store cannot tell the two
apart.
"""

from __future__ import annotations

import time


class MemoryKeys:
    def __init__(self):
        self.values: dict[str, tuple[bytes, float | None]] = {}
        self.sets: dict[str, set[bytes]] = {}

    def get(self, key: str) -> bytes | None:
        value, expires = self.values.get(key, (None, None))
        if expires is not None and time.monotonic() >= expires:
            del self.values[key]
            return None
        return value

    def mget(self, keys: list[str]) -> list[bytes | None]:
        return [self.get(k) for k in keys]

    def set(self, key: str, value: str | bytes, px: int | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        self.values[key] = (data, time.monotonic() + px / 1000 if px else None)

    def delete(self, *keys: str) -> None:
        for key in keys:
            self.values.pop(key, None)
            self.sets.pop(key, None)

    def smembers(self, key: str) -> set[bytes]:
        return set(self.sets.get(key, ()))

    def sadd(self, key: str, *members: str) -> None:
        self.sets.setdefault(key, set()).update(m.encode() for m in members)

    def srem(self, key: str, *members: str) -> None:
        self.sets.get(key, set()).difference_update(m.encode() for m in members)
