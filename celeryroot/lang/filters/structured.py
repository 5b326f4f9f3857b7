"""Filters of structured data: JSON and YAML text, and dictionaries
(combine, dict2items, subelements, …)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from io import StringIO

from jinja2 import pass_environment
from jinja2.exceptions import FilterArgumentError

LIST_MERGES = ("replace", "keep", "append", "prepend", "append_rp", "prepend_rp")


def to_json(value, **options):
    return json.dumps(value, **options)


def to_nice_json(value, indent=4, sort_keys=True, **options):
    return json.dumps(value, indent=indent, sort_keys=sort_keys, separators=(",", ": "), **options)


def from_json(text, **options):
    return json.loads(str(text), **options)


def to_yaml(value, indent=2, default_flow_style=None, sort_keys=True, width=80, **_):
    """YAML text laid out as PyYAML writes it for Ansible, with PyYAML's
    YAML 1.1 booleans quoted (``'yes'``, ``'on'``; ``y`` is a string)."""
    from ruamel.yaml import YAML

    from ..yamlread import AnsibleResolver

    yaml = YAML(typ="safe", pure=True)
    yaml.Resolver = AnsibleResolver
    yaml.Emitter, yaml.Representer = _pyyaml_emitter(), _pyyaml_representer()
    yaml.default_flow_style = default_flow_style
    yaml.sort_base_mapping_type_on_output = sort_keys
    yaml.width = width
    yaml.allow_unicode = True
    yaml.indent(mapping=indent, sequence=indent, offset=0)
    out = StringIO()
    yaml.dump(value, out)
    text = out.getvalue()
    return text[:-4] if text.endswith("\n...\n") else text  # a lone scalar's document end, which Ansible drops


def _pyyaml_emitter():
    """ruamel's emitter, placing what follows a sequence's dash as PyYAML
    does: a scalar or a flow collection right after ``- ``, a block
    collection at the indentation (``-   key: v``); a long scalar at the
    top continues its lines indented."""
    from ruamel.yaml.emitter import Emitter

    class PyYAMLEmitter(Emitter):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.indents.seq_flow_align = lambda *_, **__: 0  # no padding before "[" or "{" after a dash

        def increase_indent(self, flow=False, sequence=None, indentless=False):
            top = self.indent is None
            super().increase_indent(flow, sequence, indentless)
            if top and flow:
                self.indent = self.best_map_indent

        def analyze_scalar(self, scalar):
            analysis = super().analyze_scalar(scalar)
            if ":" in scalar or "?" in scalar:  # YAML 1.1's indicators: never plain in a flow collection
                analysis.allow_flow_plain = False
            return analysis

        def process_scalar(self):
            after_dash = self.sequence_context and not self.flow_level and self.column > 0
            self.sequence_context = self.sequence_context and not after_dash  # no padding to the indentation
            try:
                super().process_scalar()
            finally:
                self.sequence_context = self.sequence_context or after_dash

    return PyYAMLEmitter


def _pyyaml_representer():
    """ruamel's safe representer, writing a float as YAML 1.1 (and PyYAML)
    reads one: ``1.0e+20``, not ``1e+20``, which is a string there."""
    from ruamel.yaml.representer import SafeRepresenter

    class PyYAMLRepresenter(SafeRepresenter):
        def represent_float(self, data):
            node = super().represent_float(data)
            if "e" in node.value and "." not in node.value:
                node.value = node.value.replace("e", ".0e", 1)
            return node

    PyYAMLRepresenter.add_representer(float, PyYAMLRepresenter.represent_float)
    return PyYAMLRepresenter


def to_nice_yaml(value, indent=4, **options):
    return to_yaml(value, indent=indent, **{"default_flow_style": False, **options})


def _yaml_reader():
    """YAML as playbooks are read (source.py): 1.1 whatever the text's own
    ``---`` or ``%YAML`` says, with PyYAML's booleans."""
    from ruamel.yaml import YAML

    from ..yamlread import AnsibleResolver

    yaml = YAML(typ="safe", pure=True)
    yaml.Resolver = AnsibleResolver
    return yaml


def from_yaml(text):
    """Text read as YAML; anything else (None, data already) is kept."""
    return _yaml_reader().load(text) if isinstance(text, str) else text


def from_yaml_all(text):
    if text is None:
        return []
    return list(_yaml_reader().load_all(text)) if isinstance(text, str) else text


def combine(*dicts, recursive=False, list_merge="replace"):
    """Later mappings win; ``recursive`` merges nested ones; ``list_merge``
    is replace, keep, append, prepend, append_rp or prepend_rp."""
    if list_merge not in LIST_MERGES:
        raise FilterArgumentError(f"combine: list_merge must be one of {', '.join(LIST_MERGES)}; got {list_merge!r}")
    out: dict = {}
    for d in dicts:
        for item in (d if isinstance(d, list) else [d]):
            if not isinstance(item, Mapping):
                raise FilterArgumentError(f"combine expects dictionaries, got {item!r}")
            out = _merge(out, item, recursive, list_merge)
    return out


def _merge(a: Mapping, b: Mapping, recursive: bool, list_merge: str) -> dict:
    out = dict(a)
    for key, value in b.items():
        old = out.get(key)
        if recursive and isinstance(value, Mapping) and isinstance(old, Mapping):
            out[key] = _merge(old, value, True, list_merge)
        elif isinstance(value, list) and isinstance(old, list) and list_merge != "replace":
            out[key] = _merge_lists(old, value, list_merge)
        else:
            out[key] = value
    return out


def _merge_lists(old: list, new: list, how: str) -> list:
    if how == "keep":
        return old
    if how == "append":
        return old + new
    if how == "prepend":
        return new + old
    if how == "append_rp":  # the old items not in new, then new
        return [x for x in old if x not in new] + new
    return new + [x for x in old if x not in new]


def dict2items(value, key_name="key", value_name="value"):
    if not isinstance(value, Mapping):
        raise FilterArgumentError(f"dict2items requires a dictionary, got {type(value).__name__}")
    return [{key_name: k, value_name: v} for k, v in value.items()]


def items2dict(value, key_name="key", value_name="value"):
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise FilterArgumentError(f"items2dict requires a list of dictionaries, got {value!r} instead.")
    try:
        return {item[key_name]: item[value_name] for item in value}
    except KeyError as exc:
        raise FilterArgumentError(f"items2dict: an item has no key {exc}") from None


@pass_environment
def extract(env, item, container, morekeys=None):
    """``groups.web | map('extract', hostvars, 'ansible_host')``; a missing
    key is undefined, as ``container[item]`` would be in a template
    (``| select('defined')`` drops it)."""
    value = env.getitem(container, item)
    for key in ([] if morekeys is None else morekeys if isinstance(morekeys, list) else [morekeys]):
        value = env.getitem(value, key)
    return value


def subelements(items, path, skip_missing=False):
    """Each item with each element of its list at ``path`` (``'a.b'`` or
    ``['a', 'b']``): ``[[item, element], …]``; a mapping's values are its items."""
    keys = path if isinstance(path, list) else str(path).split(".")
    out = []
    for item in (items.values() if isinstance(items, Mapping) else items):
        value = item
        for key in keys:
            if not isinstance(value, Mapping) or key not in value:
                if skip_missing:
                    value = None
                    break
                raise FilterArgumentError(f"could not find {key!r} key in iterated item {item!r}")
            value = value[key]
        if value is None:
            continue
        if not isinstance(value, list):
            raise FilterArgumentError(f"the key {keys[-1]} should point to a list, got {value!r}")
        out.extend([item, element] for element in value)
    return out


def rekey_on_member(data, key, duplicates="error"):
    """A list (or a mapping's values) of mappings as one mapping, by each one's ``key``."""
    if duplicates not in ("error", "overwrite"):
        raise FilterArgumentError(f"rekey_on_member: duplicates must be error or overwrite, got {duplicates!r}")
    out: dict = {}
    for item in (data.values() if isinstance(data, Mapping) else data):
        if not isinstance(item, Mapping) or key not in item:
            raise FilterArgumentError(f"rekey_on_member: key {key!r} was not found in {item!r}")
        if item[key] in out and duplicates == "error":
            raise FilterArgumentError(f"rekey_on_member: key {item[key]!r} is not unique")
        out[item[key]] = item
    return out


FILTERS = {
    "to_json": to_json, "to_nice_json": to_nice_json, "from_json": from_json,
    "to_yaml": to_yaml, "to_nice_yaml": to_nice_yaml, "from_yaml": from_yaml, "from_yaml_all": from_yaml_all,
    "combine": combine, "dict2items": dict2items, "items2dict": items2dict, "extract": extract,
    "subelements": subelements, "rekey_on_member": rekey_on_member,
}
