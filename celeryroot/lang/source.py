"""YAML input with positions: every error the user sees names file:line:col.

Playbooks and inventories are read as YAML 1.1, the dialect PyYAML and so
Ansible speak: ``mode: 0644`` is octal and ``yes`` is a boolean there, and an
Ansible user's files must keep their meaning here.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

@dataclass(frozen=True)
class Where:
    """A place in an input file; lines and columns count from 1."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"


class InputError(Exception):
    """Bad user input, reported before any host is contacted (exit status 1)."""

    def __init__(self, where: Where | None, message: str):
        super().__init__(message)
        self.where = where
        self.message = message

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def warn(at: Where | None, message: str) -> None:
    """Input that is valid but probably not what was meant: said on stderr
    with its position, and the run goes on (as Ansible and ansible-lint do)."""
    print(f"[WARNING]: {at}: {message}" if at else f"[WARNING]: {message}", file=sys.stderr, flush=True)


#: The most an input file (playbook, task file, inventory, vars file,
#: template) may hold. Reading YAML with positions costs some seconds per
#: MiB, and a larger playbook is a mistake rather than a plan.
MAX_FILE_BYTES = 4 << 20
#: How deep YAML may nest: real playbooks stay under 20 levels, and every
#: stage after loading walks the data recursively.
MAX_DEPTH = 100
#: Aliases (``*name``) a file may use, and the nodes they may add in all:
#: a few ``<<: *defaults`` are common, a "billion laughs" is an attack.
MAX_ALIASES = 10_000
MAX_ALIAS_NODES = 100_000

#: Byte-order marks of encodings other than UTF-8, longest first.
OTHER_BOMS = ((b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"), (b"\xfe\xff", "UTF-16"),
              (b"\xff\xfe", "UTF-16"))


def read_text(path: str | Path) -> str:
    """An input file as text: UTF-8 (a UTF-8 byte-order mark is dropped), no
    NUL byte, at most `MAX_FILE_BYTES`; anything else is an `InputError`
    naming the file (and the line and column of the first bad byte)."""
    file = str(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)  # a bound even for /dev/zero or a growing file
    except OSError as exc:
        raise InputError(Where(file), f"cannot read file: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise InputError(_byte_where(file, data, MAX_FILE_BYTES), f"the file is larger than {MAX_FILE_BYTES >> 20} MiB, the most celeryroot "
                                      "reads as a playbook, inventory, vars file or template")
    for bom, encoding in OTHER_BOMS:
        if data.startswith(bom):
            raise InputError(Where(file, 1, 1), f"the file is {encoding} text; celeryroot reads UTF-8 (convert it, "
                                          f"e.g. iconv -f {encoding} -t UTF-8)")
    if b"\x00" in data:
        raise InputError(_byte_where(file, data, data.index(b"\x00")),
                         "the file contains a NUL byte: it is binary, or UTF-16 text without a byte-order mark; "
                         "celeryroot reads UTF-8 text")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InputError(_byte_where(file, data, exc.start),
                         f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x}); celeryroot reads UTF-8 "
                         "(convert it, e.g. iconv -f LATIN1 -t UTF-8)") from None


def _byte_where(file: str, data: bytes, offset: int) -> Where:
    start = data.rfind(b"\n", 0, offset) + 1
    return Where(file, data.count(b"\n", 0, offset) + 1, len(data[start:offset].decode(errors="replace")) + 1)


def line_at(lines: list[str], index: int) -> str:
    return lines[index] if 0 <= index < len(lines) else ""


#: A value or list item that begins with ``{{``: YAML reads the brace as the
#: start of a flow mapping, which is the commonest YAML error in playbooks.
UNQUOTED_TEMPLATE = re.compile(r"^(\s*(?:-\s+|[^\s#'\"][^#'\"]*?:\s+)?)(\{\{.*?)\s*$")


#: The most of a line an error shows.
EXCERPT = 160


def offending(lines: list[str], index: int, col: int) -> str:
    """The line at ``index`` (from 0) with a caret under ``col``, and a hint
    when the line has a template that starts a value without quotes."""
    text = line_at(lines, index)
    if not text.strip():
        return ""
    if len(text) > EXCERPT:  # a window around the column of a very long line
        start = max(0, col - EXCERPT // 2)
        text, col = text[start:start + EXCERPT], col - start
    shown = f"\n\nThe offending line appears to be:\n\n{text}\n{' ' * col}^ here"
    unquoted = UNQUOTED_TEMPLATE.match(text)
    if not unquoted:
        return shown
    value = unquoted.group(2)
    quote = "'" if '"' in value else '"'
    return (shown + "\n\nA value that starts with {{ must be in quotes: YAML takes an unquoted { as the start "
            f"of a mapping. Write\n\n{unquoted.group(1)}{quote}{value}{quote}")


def where(node: Any, fallback: Where | None = None) -> Where:
    """The position of a mapping or sequence node itself."""
    file = getattr(node, "source_file", None)
    lc = getattr(node, "lc", None)
    if file is None or lc is None or lc.line is None:
        return fallback or Where("<input>")
    return Where(file, lc.line + 1, lc.col + 1)


def key_where(node: Any, key: Any) -> Where:
    """The position of ``key`` inside mapping ``node``."""
    file = getattr(node, "source_file", None)
    try:
        line, col = node.lc.key(key)
    except (AttributeError, KeyError, TypeError):
        return where(node)
    return Where(file or "<input>", line + 1, col + 1)


def value_where(node: Any, key: Any) -> Where:
    """The position of the value under ``key`` inside mapping ``node``."""
    file = getattr(node, "source_file", None)
    try:
        line, col = node.lc.value(key)
    except (AttributeError, KeyError, TypeError):
        return key_where(node, key)
    return Where(file or "<input>", line + 1, col + 1)


def item_where(node: Any, index: int) -> Where:
    """The position of item ``index`` inside sequence ``node``."""
    file = getattr(node, "source_file", None)
    try:
        line, col = node.lc.item(index)
    except (AttributeError, KeyError, TypeError, IndexError):
        return where(node)
    return Where(file or "<input>", line + 1, col + 1)


def plain(node: Any) -> Any:
    """Turn ruamel's round-trip containers into plain dicts/lists/scalars."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def expect_mapping(node: Any, at: Where, what: str) -> dict:
    if node is None:
        return {}
    if not isinstance(node, dict):
        raise InputError(at, f"{what} must be a mapping, got {type_name(node)}")
    return node


def expect_list(node: Any, at: Where, what: str) -> list:
    if node is None:
        return []
    if not isinstance(node, list):
        raise InputError(at, f"{what} must be a list, got {type_name(node)}")
    return node


#: How errors name a value's type; bool before int, since a bool is an int.
TYPE_NAMES = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
              (dict, "a mapping"), (list, "a list"))


def type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    for kind, name in TYPE_NAMES:
        if isinstance(value, kind):
            return name
    return type(value).__name__
