"""Rendering edges the expression table (tests/test_jinja.py) does not
reach: the fast path for plain names against Jinja, native types, and
conditions."""

from __future__ import annotations

import pytest

from celeryroot.lang.templating import Lazy, TemplateFailure, condition, lazy, render

VARS = {"a": "x", "b": {"c": 2, "t": "{{ a }}!"}, "n": 7, "l": [1, 2]}


@pytest.mark.parametrize("text, expected", [
    ("{{ a }}/{{ b.c }}", "x/2"),          # names only: substituted
    ("{{ b.t }}", "{{ a }}!"),             # data (a result, a fact) is rendered once, not again for its braces
    ("<{{ b.t }}>", "<{{ a }}!>"),         # ... by Jinja too, where the fast path steps aside
    ("{{ l }}-{{ n }}", "[1, 2]-7"),
    ("{{ n }}", 7),                        # one expression keeps its type
    (" {{ n }} ", " 7 "),                  # text around it makes text (ansible-core 2.19)
    ("{{ n }}\n", 7),                      # ... but for the one newline Jinja drops
    ("{# note #}{{ a }}", "x"),
    ("{ a }", "{ a }"),
])
def test_render(text, expected):
    assert render(text, VARS) == expected


def test_render_walks_mappings_and_lists_and_leaves_other_values():
    assert render({"k": ["{{ a }}", 3, None, {"d": "{{ n + 1 }}"}]}, VARS) == {"k": ["x", 3, None, {"d": 8}]}


@pytest.mark.parametrize("text", ["{{ missing }}", "x/{{ b.nope }}", "{{ b.c.deeper }}", "{{ [b.nope] }}",
                                  "{{ {'k': [1, b.nope]} }}", "{{ ['c', 'x'] | map('extract', b) | list }}"])
def test_an_undefined_name_is_a_template_failure(text):
    with pytest.raises(TemplateFailure) as caught:
        render(text, VARS)
    assert "undefined" in str(caught.value)


def test_a_syntax_error_names_the_template():
    with pytest.raises(TemplateFailure) as caught:
        render("{{ a | }}", VARS)
    assert "'{{ a | }}'" in str(caught.value)


@pytest.mark.parametrize("expression, holds", [
    (True, True), (False, False), ("n > 5", True), ("{{ n > 5 }}", True), (["n > 5", "a == 'y'"], False),
    ([], True), ("a", True), ("'no'", False), ("'False'", False), ("''", False), ("'off'", False), ("l", True),
])
def test_condition(expression, holds):
    assert condition(expression, VARS) is holds


def test_a_condition_on_an_undefined_name_says_which():
    with pytest.raises(TemplateFailure) as caught:
        condition("ghost == 1", VARS)
    assert "ghost" in str(caught.value)


#: Variables from the playbook's text: templates rendered where they are read.
LAZY = {**VARS, **lazy({"path": "{{ a }}/{{ leaf }}", "leaf": "f", "ports": ["{{ n }}", 8],
                        "conf": {"dir": "{{ path }}"}, "broken": "{{ nope }}/x", "loop": "{{ loop }}"})}


@pytest.mark.parametrize("text, expected", [
    ("{{ path }}", "x/f"),                        # a variable of variables
    ("{{ path }}/y", "x/f/y"),                    # ... through the fast path too
    ("{{ ports }}", [7, 8]),                      # a list of templates, native values
    ("{{ conf.dir }}", "x/f"),                    # a mapping, two levels down
    ("{{ broken | default('d') }}", "d"),         # a variable of an undefined one is undefined
    ("{{ broken is defined }}", False),
    ("{{ b.t }}", "{{ a }}!"),                    # data stays data beside them
])
def test_lazy_variables_render_when_read(text, expected):
    assert render(text, LAZY) == expected


def test_a_lazy_variable_renders_with_the_readers_variables():
    assert render("{{ path }}", {**LAZY, "leaf": "task"}) == "x/task"


def test_a_lazy_variable_of_an_undefined_one_names_both():
    with pytest.raises(TemplateFailure, match=r"'nope' is undefined \(in variable 'broken'\)"):
        render("{{ broken }}", LAZY)


def test_variables_that_refer_to_each_other_in_a_circle_are_an_error():
    with pytest.raises(TemplateFailure, match="recursive loop in variables: loop -> loop"):
        render("{{ loop }}", LAZY)
    with pytest.raises(TemplateFailure, match="a -> b -> a"):
        render("{{ a }}", {"a": Lazy("{{ b }}"), "b": Lazy("{{ a }}")})


def test_string_constants_in_a_value_keep_their_backslashes_as_in_ansible():
    """YAML read the escapes once; ansible-core does not let Jinja read them
    again in a value's ``{{ }}``, but does in a condition (``when:``)."""
    assert render(r"{{ 'ansible' | regex_replace('^a.*i(.*)$', 'a\1') }}", {}) == "able"
    assert render(r"{{ 'a\tb' | length }}", {}) == 4
    assert render(r"<{{ 'a\\b' | length }}>{% if 'a\tb' | length == 3 %}!{% endif %}", {}) == "<4>!"
    assert condition(r"'a\tb' | length == 3", {})
    assert not condition(r"{{ 'a\tb' | length == 3 }}", {})  # a template all the same
