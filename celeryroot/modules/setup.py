"""setup: gather facts about the host."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from ..host.facts import gather, subset_names
from ..host.localfacts import FACT_PATH, local_facts
from ..module import Module, Plan, arg


def _subsets(value) -> tuple[str, ...]:
    items = [v.strip() for v in value.split(",")] if isinstance(value, str) else [str(v) for v in value]
    known = subset_names()
    for item in items:
        if item.lstrip("!") not in known:
            raise ValueError(f"bad subset '{item}'; gather_subset options allowed: {', '.join(known)}")
    return tuple(items)


def _patterns(value) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)


class Setup(Module):
    """Gather facts about the host: OS, distribution, kernel, CPUs, memory,
    network addresses, Python, package and service manager, date and time.

    Returns them as ``ansible_facts`` (names without the ``ansible_``
    prefix); a play's ``gather_facts`` runs this module first, and the
    facts become the host's ``ansible_facts`` and ``ansible_*`` variables.
    Never changes anything.

    Example:
        - setup:
            gather_subset: [min, network]
            filter: [default_ipv4, ansible_distribution*]
    """

    name = "setup"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        gather_subset: list[str] = arg(["all"], convert=_subsets,
                                       doc="Subsets to gather: all, min, hardware, network, virtual or a "
                                           "min part (platform, distribution, ...); '!x' leaves one out.")
        filter: list[str] = arg([], convert=_patterns,
                                doc="Only return facts whose names match these shell patterns.")
        gather_timeout: int = arg(10, doc="Seconds each program run (ip, an executable local fact) may take.")
        fact_path: str = arg(FACT_PATH, doc="Where local facts are: each NAME.fact file (JSON or INI, or an "
                                            "executable printing either) is ansible_local.NAME.")

    def plan(self) -> Plan:
        facts = gather(self.args.gather_subset, self.args.gather_timeout)
        facts["local"] = local_facts(self.args.fact_path, self.args.gather_timeout)
        if self.args.filter:
            # Ansible matches patterns against prefixed names; ours carry no prefix.
            patterns = [p.removeprefix("ansible_") for p in self.args.filter]
            facts = {k: v for k, v in facts.items() if any(fnmatch.fnmatchcase(k, p) for p in patterns)}
        facts.update(gather_subset=list(self.args.gather_subset), module_setup=True)
        return Plan(reason=f"{len(facts)} facts gathered", data={"ansible_facts": facts})
