"""YAML read as Ansible (PyYAML) reads it, whatever the document start says."""

import pytest

from celeryroot.lang.source import plain
from celeryroot.lang.yamlread import load_yaml


@pytest.mark.parametrize("start", ["", "---\n", "--- # a comment\n", "%YAML 1.1\n---\n", "%YAML 1.2\n---\n"])
def test_every_document_is_yaml_1_1(tmp_path, start):
    path = tmp_path / "book.yml"
    path.write_text(start + "mode: 0640\ngather_facts: no\nbecome: on\nanswer: y\nversion: 1.10\n")
    assert plain(load_yaml(path)) == {"mode": 0o640, "gather_facts": False, "become": True, "answer": "y",
                                      "version": 1.1}
