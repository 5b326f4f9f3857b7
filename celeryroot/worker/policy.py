"""Which modules a host's worker runs: its least privilege.

A worker's configuration may name the only modules it runs
(``allowed_modules``, ``--allow-modules``) and those it never runs
(``denied_modules``, ``--deny-modules``). The controller cannot lift
either: the worker asks before each module call it runs, plain task or
bundle alike, and a refused call is a failed result, audited as any other.

Modules that only read variables (``debug``, ``set_fact``, ``assert``,
``fail``, ``meta``: ``on_controller``) are outside the policy: they touch
nothing on the host, and outside bundles they run on the controller.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..lang.source import InputError, Where


@dataclass(frozen=True)
class ModulePolicy:
    #: None: every module; else only these.
    allowed: frozenset[str] | None = None
    denied: frozenset[str] = frozenset()

    def refusal(self, module: str) -> str | None:
        """Why ``module`` may not run here, or None."""
        if module in self.denied:
            return f"module '{module}' is denied on this host (denied_modules)"
        if self.allowed is not None and module not in self.allowed:
            return f"module '{module}' is not allowed on this host (allowed_modules: {', '.join(sorted(self.allowed))})"
        return None

    def describe(self) -> str:
        """The restriction as the worker's start-up line says it ("" for none)."""
        parts = []
        if self.allowed is not None:
            parts.append(f"allowed modules {','.join(sorted(self.allowed)) or '(none)'}")
        if self.denied:
            parts.append(f"denied modules {','.join(sorted(self.denied))}")
        return ", ".join(parts)


def module_policy(registry, allow: str | None, deny: str | None, options: dict) -> ModulePolicy:
    """The policy from ``--allow-modules``/``--deny-modules`` (comma
    separated), else from ``allowed_modules``/``denied_modules`` in the
    configuration. A name no module has stops the start: a misspelt denial
    would deny nothing."""
    allowed = _names(registry, allow, "--allow-modules") if allow is not None else \
        _names(registry, options.get("allowed_modules"), "allowed_modules")
    denied = _names(registry, deny, "--deny-modules") if deny is not None else \
        _names(registry, options.get("denied_modules"), "denied_modules")
    return ModulePolicy(allowed, denied or frozenset())


def _names(registry, value, source: str) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(Where(source), "expected a list of module names (or one comma-separated string)")
    unknown = [v for v in value if registry.get(v) is None]
    if unknown:
        raise InputError(Where(source), f"no module named '{unknown[0]}'")
    return frozenset(registry.resolve(v) for v in value)
