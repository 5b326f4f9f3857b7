"""Which tasks ``--tags`` and ``--skip-tags`` select, with Ansible's special tags."""

from __future__ import annotations


def selected(tags: set[str], only: set[str], skip: set[str]) -> bool:
    """Ansible's rule: ``always`` runs unless skipped by name, ``never`` only
    when one of its other tags is asked for; ``tagged``/``untagged``/``all``."""
    only = only or {"all"}
    if "always" in tags and "always" not in only:
        run = True
    elif "all" in only and "never" not in tags:
        run = True
    elif only & tags:
        run = True
    elif "tagged" in only and tags and "never" not in tags:
        run = True
    elif "untagged" in only and not tags:
        run = True
    else:
        run = False
    if run and skip:
        if "all" in skip:
            run = "always" in tags and "always" not in skip
        elif skip & tags:
            run = False
        elif "tagged" in skip and tags:
            run = False
        elif "untagged" in skip and not tags:
            run = False
    return run


def split(values: list[str] | None) -> set[str]:
    return {t.strip() for v in values or [] for t in v.split(",") if t.strip()}
