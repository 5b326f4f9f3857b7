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

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedKeyMap, CommentedKeySeq, CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver, implicit_resolvers
from ruamel.yaml.util import RegExp

BOOL_TAG = "tag:yaml.org,2002:bool"
#: PyYAML's YAML 1.1 booleans: unlike the spec (and ruamel), ``y`` and ``n``
#: stay strings, so ``y: 1`` is a key named y, as in Ansible.
PYYAML_BOOL = RegExp(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
FLOAT_TAG = "tag:yaml.org,2002:float"
#: PyYAML's YAML 1.1 floats: a dot always, a sign in an exponent, so
#: ``1e3`` and ``1.5e3`` are strings, as in Ansible.
PYYAML_FLOAT = RegExp(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""", re.X)


class AnsibleResolver(VersionedResolver):
    @property
    def processing_version(self):
        # Always 1.1, as PyYAML reads every document: ruamel would take a
        # ``%YAML 1.2`` directive, or any explicit ``---``, for YAML 1.2,
        # where ``mode: 0640`` is the decimal 640 and ``gather_facts: no``
        # a string, which is true.
        return (1, 1)

    @property
    def versioned_resolver(self):
        version = self.processing_version
        if version not in self._version_implicit_resolver:
            for versions, tag, regexp, first in implicit_resolvers:
                if version in versions:
                    if tag == BOOL_TAG and version == (1, 1):
                        regexp, first = PYYAML_BOOL, list("yYnNtTfFoO")
                    elif tag == FLOAT_TAG and version == (1, 1):
                        regexp = PYYAML_FLOAT
                    self.add_version_implicit_resolver(version, tag, regexp, first)
        return self._version_implicit_resolver[version]


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


class _Refused(Exception):
    """Input that YAML allows but the limits above refuse, at ``mark``."""

    def __init__(self, mark, message: str):
        super().__init__(message)
        self.mark, self.message = mark, message


class BoundedComposer(Composer):
    """ruamel's composer with `MAX_DEPTH` and the alias limits."""

    def __init__(self, loader=None):
        super().__init__(loader)
        self.nesting = 0
        self.aliases = 0
        self.alias_nodes = 0
        self.sizes: dict[int, int] = {}

    def compose_node(self, parent, index):
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _Refused(event.start_mark, f"the file uses more than {MAX_ALIASES} aliases")
            node = super().compose_node(parent, index)
            self.alias_nodes += self._size(node)
            if self.alias_nodes > MAX_ALIAS_NODES:
                raise _Refused(event.start_mark, f"aliases expand to more than {MAX_ALIAS_NODES} values "
                                                 "(an alias bomb?)")
            return node
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise _Refused(event.start_mark, f"the data nests more than {MAX_DEPTH} levels deep")
        try:
            return super().compose_node(parent, index)
        finally:
            self.nesting -= 1

    def _size(self, node) -> int:
        """Values in ``node`` once aliases are expanded; each node counted
        once, so the count itself stays linear."""
        known = self.sizes.get(id(node))
        if known is None:
            if isinstance(node, MappingNode):
                known = 1 + sum(self._size(k) + self._size(v) for k, v in node.value)
            elif isinstance(node, SequenceNode):
                known = 1 + sum(self._size(v) for v in node.value)
            else:
                known = 1
            self.sizes[id(node)] = known
        return known


def load_yaml(path: str | Path) -> Any:
    """Load one YAML file, keeping positions for `key_where` and `item_where`."""
    text = read_text(path)
    file = str(path)
    yaml = YAML(typ="rt")
    yaml.Resolver = AnsibleResolver
    yaml.Composer = BoundedComposer
    yaml.version = (1, 1)
    lines = text.splitlines()  # for excerpts in errors
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        raise _syntax_error(exc, file, lines) from None
    except _Refused as exc:
        at = Where(file, exc.mark.line + 1, exc.mark.column + 1)
        raise InputError(at, exc.message + _offending(lines, exc.mark.line, exc.mark.column)) from None
    except ReaderError as exc:  # a control character YAML does not allow
        before = text[:exc.position]
        at = Where(file, before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1)
        raise InputError(at, f"YAML syntax error: the character #x{exc.character:04x} is not allowed in YAML") \
            from None
    _tag_file(data, file, lines)
    return data


def _syntax_error(exc: MarkedYAMLError, file: str, lines: list[str]) -> InputError:
    mark = exc.problem_mark or exc.context_mark
    if not mark:
        return InputError(Where(file), f"YAML syntax error: {exc.problem or exc}")
    problem = " ".join(filter(None, [exc.context, exc.problem]))
    shown = mark
    if not _line(lines, mark.line).strip() and exc.context_mark:
        shown = exc.context_mark  # the end of the file: show where the unclosed thing began
    return InputError(Where(file, mark.line + 1, mark.column + 1),
                      f"YAML syntax error: {problem}" + _offending(lines, shown.line, shown.column))


def _line(lines: list[str], index: int) -> str:
    return lines[index] if 0 <= index < len(lines) else ""


#: A value or list item that begins with ``{{``: YAML reads the brace as the
#: start of a flow mapping, which is the commonest YAML error in playbooks.
UNQUOTED_TEMPLATE = re.compile(r"^(\s*(?:-\s+|[^\s#'\"][^#'\"]*?:\s+)?)(\{\{.*?)\s*$")


#: The most of a line an error shows.
EXCERPT = 160


def _offending(lines: list[str], index: int, col: int) -> str:
    """The line at ``index`` (from 0) with a caret under ``col``, and a hint
    when the line has a template that starts a value without quotes."""
    text = _line(lines, index)
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


def _tag_file(node: Any, file: str, lines: list[str]) -> None:
    # ruamel keeps line/col per node but not the file; errors need all three.
    if isinstance(node, CommentedMap):
        node.source_file = file
        for key, value in node.items():
            if isinstance(key, (CommentedKeyMap, CommentedKeySeq)):
                _mapping_key(node, key, file, lines)
            _tag_file(value, file, lines)
    elif isinstance(node, CommentedSeq):
        node.source_file = file
        for value in node:
            _tag_file(value, file, lines)


def _mapping_key(node: CommentedMap, key: Any, file: str, lines: list[str]) -> None:
    # PyYAML, and so Ansible, refuse a mapping as a key ("found unhashable
    # key"); ruamel takes it, so ``msg: {{ x }}`` would pass as {{x: null}: null}.
    line, col = node.lc.key(key)
    raise InputError(Where(file, line + 1, col + 1),
                     "YAML syntax error: a mapping or a list cannot be a key" + _offending(lines, line, col))


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
