"""How a YAML file is read: ruamel's round-trip loader, made to read YAML
1.1 as PyYAML (and so Ansible) does, within the limits of source.py, each
node tagged with its file. Apart from source.py, whose positions and
errors a worker needs without YAML: ruamel is a third of a worker's
start-up imports and some MB of its memory, and a worker without a
configuration file reads no YAML."""

from __future__ import annotations

import re
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

from .source import MAX_ALIAS_NODES, MAX_ALIASES, MAX_DEPTH, InputError, Where, line_at, offending, read_text

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
        raise InputError(at, exc.message + offending(lines, exc.mark.line, exc.mark.column)) from None
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
    if not line_at(lines, mark.line).strip() and exc.context_mark:
        shown = exc.context_mark  # the end of the file: show where the unclosed thing began
    return InputError(Where(file, mark.line + 1, mark.column + 1),
                      f"YAML syntax error: {problem}" + offending(lines, shown.line, shown.column))


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
                     "YAML syntax error: a mapping or a list cannot be a key" + offending(lines, line, col))
