"""Module arguments against their typed spec: k=v strings, free forms,
aliases, types and choices; a bad one is an error with file:line at load."""

from __future__ import annotations

import pytest

from celeryroot.lang.source import InputError
from celeryroot.module import ArgError, build_args
from celeryroot.modules.file import File
from celeryroot.modules.lineinfile import Lineinfile

from .conftest import REGISTRY, expand, run, tasks


def _load_error(tmp_path, body: str) -> str:
    with pytest.raises(InputError) as caught:
        tasks(tmp_path, body)
    return str(caught.value)


# (task YAML, the line the error names, words it must say)
BAD = [
    ("- file:\n    path: /x\n    colour: red\n", 6, ["unsupported argument 'colour'", "known:"]),
    ("- file:\n    state: directory\n", 4, ["missing required argument 'path'"]),
    ("- file:\n    path: /x\n    dest: /y\n", 6, ["'path' given twice (as 'dest')"]),
    ("- file:\n    path: /x\n    state: gone\n", 6, ["must be one of", "got 'gone'"]),
    ("- file:\n    path: /x\n    recurse: maybe\n", 6, ["'recurse'", "expected a boolean"]),
    ("- file:\n    path: [/x]\n", 5, ["'path'", "expected a string, got a list"]),
    ("- lineinfile:\n    path: /x\n    regexp: '('\n", 6, ["not a valid regular expression"]),
    ("- file: path=/x state=directory bogus\n", 4, ["'bogus' is not a key=value argument of 'file'"]),
]


@pytest.mark.parametrize("body, line, words", BAD, ids=[w[0] for *_, w in BAD])
def test_a_bad_argument_is_an_input_error_at_its_line(tmp_path, body, line, words):
    message = _load_error(tmp_path, body)
    assert f"book.yaml:{line}:" in message, message
    for word in words:
        assert word in message, message


def test_kv_strings_unquote_and_keep_templates_whole(tmp_path):
    (task,) = tasks(tmp_path, """- lineinfile: path=/etc/x line="a b\\tc" regexp='^a {{ k | default("z") }}$'\n""")
    assert task.args == {"path": "/etc/x", "line": "a b\tc", "regexp": '^a {{ k | default("z") }}$'}


def test_free_form_keeps_the_words_that_are_not_arguments(tmp_path):
    (task,) = tasks(tmp_path, "- command: ls -l x=1 chdir=/tmp\n")
    assert task.args == {"cmd": "ls -l x=1", "chdir": "/tmp"}


def test_templated_values_are_checked_after_rendering(tmp_path):
    # At load the value is unknown, so the task loads; rendered, it fails the task.
    (task,) = tasks(tmp_path, "- name: later\n  file: path=/x recurse={{ flag }}\n")
    assert expand(task, {"flag": "yes"}).calls[0]["args"]["recurse"] is True
    done = expand(task, {"flag": "perhaps"}).done
    assert done["failed"] and "recurse" in done["msg"] and "expected a boolean" in done["msg"]


@pytest.mark.parametrize("word, value", [("yes", True), ("On", True), ("1", True), ("y", True), (True, True),
                                         ("no", False), ("OFF", False), ("0", False), ("false", False)])
def test_boolean_words(word, value):
    assert build_args(File.Args, {"path": "/x", "recurse": word}).recurse is value


def test_aliases_defaults_and_choices():
    args = build_args(Lineinfile.Args, {"dest": "/etc/x", "value": "l"})
    assert (args.path, args.line, args.state) == ("/etc/x", "l", "present")
    with pytest.raises(ArgError) as caught:
        build_args(Lineinfile.Args, {"path": "/x", "state": "maybe"})
    assert caught.value.name == "state"


def test_deferred_values_pass_unconverted():
    deferred = lambda v: isinstance(v, str) and "{{" in v  # noqa: E731 - the controller's own test
    assert build_args(File.Args, {"path": "/x", "recurse": "{{ r }}"}, deferred) is None
    with pytest.raises(ArgError):
        build_args(File.Args, {"path": "/x", "recurse": "{{ r }}"})


CROSS = [
    ("file", {"path": "/x", "state": "link"}, "src", "'src' is required for state=link"),
    ("copy", {"dest": "/x"}, "src", "one of 'src' or 'content' is required"),
    ("lineinfile", {"path": "/x", "state": "absent"}, "line", "is required with state=absent"),
    ("service", {"name": "x"}, "state", "one of 'state' or 'enabled' is required"),
]


@pytest.mark.parametrize("module, raw, name, words", CROSS, ids=[c[0] for c in CROSS])
def test_rules_between_arguments_hold_where_the_spec_is_built(module, raw, name, words):
    """``Args.check`` runs in build_args: the controller's preflight and the
    worker, which builds the arguments again from the message, both refuse."""
    cls = REGISTRY.get(module)
    with pytest.raises(ArgError) as caught:
        build_args(cls.Args, raw)
    assert caught.value.name == name and words in str(caught.value)
    on_the_worker = run(module, **raw)
    assert on_the_worker["failed"] and words in on_the_worker["msg"], on_the_worker
