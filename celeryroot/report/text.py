"""Words and diffs shared by the plain and live reports."""

from __future__ import annotations

import difflib
import json

SKIP_KEYS = {"status", "changed", "failed", "skipped", "msg", "diff", "stdout_lines", "stderr_lines",
             "unreachable", "invocation", "results", "ignored"}


def run_line(run_id: str, text: str) -> str:
    """The first and the last line of a run's report: ``run 9f2c4e1a7b3d: …``."""
    return f"run {run_id}: {text}"


def status_word(res: dict) -> str:
    if res.get("unreachable"):
        return "fatal"
    if res.get("failed"):
        return "fatal" if not res.get("ignored") else "failed"
    if res.get("skipped"):
        return "skipping"
    return "changed" if res.get("changed") else "ok"


#: What a result carries for celeryroot itself, never shown in a dump.
INTERNAL_KEYS = {"status", "_ansible_verbose_always"}


def dump(res: dict) -> str:
    """A result as Ansible's callbacks dump it: JSON, indented by 4, sorted.
    A debug result (``_ansible_verbose_always``) shows its message or
    variable alone, as Ansible's default callback cleans it."""
    if res.get("_ansible_verbose_always"):
        shown = {k: v for k, v in res.items() if k not in SKIP_KEYS and k not in INTERNAL_KEYS} or \
            {"msg": res.get("msg")}
    else:
        shown = {k: v for k, v in res.items() if k not in INTERNAL_KEYS
                 and not (k in ("failed", "skipped") and v is False) and not (k == "diff" and not v)}
    return json.dumps(shown, indent=4, sort_keys=True, ensure_ascii=False, default=str)


def headline(host: str, res: dict, verbosity: int, label=None) -> str:
    """``ok: [web1]``, ``fatal: [db1]: FAILED! => msg``, as Ansible prints
    them; a debug result's message at any verbosity, as its JSON."""
    word = status_word(res)
    shown = f"{host} -> {res['_delegated_to']}" if "_delegated_to" in res else host
    name = f"[{shown}]" + (f" => (item={label})" if label is not None else "")
    if res.get("_ansible_verbose_always") and not res.get("failed") and not res.get("skipped"):
        return f"{word}: {name} => {dump(res)}"
    if res.get("unreachable"):
        return f"{word}: {name}: UNREACHABLE! => {res.get('msg', '')}"
    if res.get("failed"):
        line = f"{word}: {name}: FAILED! => {res.get('msg', '')}"
        return line + (" ...ignoring" if res.get("ignored") else "")
    if verbosity and res.get("msg") and not res.get("skipped"):
        return f"{word}: {name} => {res['msg']}"
    return f"{word}: {name}"


def details(res: dict, verbosity: int) -> list[str]:
    """Extra lines under a headline: output of failures, everything with -v."""
    lines = []
    show_all = verbosity >= 1
    if res.get("failed") or show_all:
        for key in ("stdout", "stderr"):
            if res.get(key):
                lines.append(f"  {key}: " + res[key].replace("\n", "\n    "))
        if res.get("rc") not in (None, 0):
            lines.append(f"  rc: {res['rc']}")
    if show_all and verbosity >= 2:
        extra = {k: v for k, v in res.items() if k not in SKIP_KEYS and k not in ("stdout", "stderr", "rc")}
        if extra:
            lines.append("  " + json.dumps(extra, default=str, sort_keys=True))
    return lines


def unified(diffs: list[dict]) -> str:
    out = []
    for d in diffs or []:
        before = d.get("before", "")
        after = d.get("after", "")
        out.extend(difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True),
            fromfile=f"before: {d.get('before_header', '')}", tofile=f"after: {d.get('after_header', '')}"))
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
    return "".join(out)


def banner(kind: str, title: str, width: int = 80) -> str:
    text = f"{kind} [{title}] " if title is not None else f"{kind} "
    return text + "*" * max(3, width - len(text))


RECAP_COUNTERS = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")
#: More hosts than this, and the recap ends with a line for the whole fleet.
FLEET_RECAP = 50


def retry_line(host: str, title: str, left: int) -> str:
    """Ansible's line for an attempt of an ``until`` task that will be tried again."""
    return f"FAILED - RETRYING: [{host}]: {title} ({left} retries left)."


def recap_line(host: str, c: dict) -> str:
    """A PLAY RECAP line, spaced as Ansible's (greppable: ``grep 'failed=[1-9]'``)."""
    return f"{host:<26} : " + " ".join(f"{k}={c[k]:<4}" for k in RECAP_COUNTERS)


def fleet_line(summary: dict[str, dict]) -> str | None:
    """``FLEET: 500 hosts  ok=… changed=… …  (hosts failed: 3, unreachable: 1)``
    under a recap of more than `FLEET_RECAP` hosts, else None."""
    if len(summary) <= FLEET_RECAP:
        return None
    totals = {k: sum(c[k] for c in summary.values()) for k in RECAP_COUNTERS}
    hosts = {k: sum(1 for c in summary.values() if c[k]) for k in ("changed", "failed", "unreachable")}
    return (f"FLEET: {len(summary)} hosts  " + " ".join(f"{k}={totals[k]}" for k in RECAP_COUNTERS)
            + "  (hosts " + ", ".join(f"{k}: {n}" for k, n in hosts.items()) + ")")
