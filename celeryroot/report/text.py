"""Words and diffs shared by the plain and live reports."""

from __future__ import annotations

import difflib
import json

SKIP_KEYS = {"status", "changed", "failed", "skipped", "msg", "diff", "stdout_lines", "stderr_lines",
             "unreachable", "invocation", "results", "ignored"}


def status_word(res: dict) -> str:
    if res.get("unreachable"):
        return "fatal"
    if res.get("failed"):
        return "fatal" if not res.get("ignored") else "failed"
    if res.get("skipped"):
        return "skipping"
    return "changed" if res.get("changed") else "ok"


def headline(host: str, res: dict, verbosity: int, label=None) -> str:
    """``ok: [web1]``, ``fatal: [db1]: FAILED! => msg``, as Ansible prints them."""
    word = status_word(res)
    name = f"[{host}]" + (f" => (item={label})" if label is not None else "")
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


def item_diffs(res: dict) -> list[dict]:
    diffs = list(res.get("diff") or [])
    for item in res.get("results") or []:
        diffs += item.get("diff") or []
    return diffs


def banner(kind: str, title: str, width: int = 79) -> str:
    text = f"{kind} [{title}] " if title is not None else f"{kind} "
    return text + "*" * max(3, width - len(text))


def recap_line(host: str, c: dict) -> str:
    return (f"{host:<26}: ok={c['ok']:<4} changed={c['changed']:<4} unreachable={c['unreachable']:<4} "
            f"failed={c['failed']:<4} skipped={c['skipped']:<4} rescued={c['rescued']:<4} ignored={c['ignored']}")
