"""Rendering edges the expression table (tests/test_jinja.py) does not
reach: the fast path for plain names against Jinja, native types, and
conditions."""

from __future__ import annotations

import pytest

from celeryroot.lang.templating import TemplateFailure, condition, render

VARS = {"a": "x", "b": {"c": 2, "t": "{{ a }}!"}, "n": 7, "l": [1, 2]}


@pytest.mark.parametrize("text, expected", [
    ("{{ a }}/{{ b.c }}", "x/2"),          # names only: substituted
    ("{{ b.t }}", "{{ a }}!"),             # a value is rendered once, not again for its own braces
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


@pytest.mark.parametrize("text", ["{{ missing }}", "x/{{ b.nope }}", "{{ b.c.deeper }}"])
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
