"""``vars_prompt``: play variables asked of the operator before the run.

An answer given with ``-e NAME=…`` is taken and nothing is asked, as in
Ansible. Otherwise the operator is asked on the terminal (``ask``, given by
the command line); with no terminal to ask on, a prompt's ``default`` is the
answer, and one without a default is an error naming it, instead of a run
that hangs on input nobody types.
"""

from __future__ import annotations

from .source import InputError, expect_list, expect_mapping, item_where, plain, value_where
from .tasks import _reject_unknown
from .templating import is_template

PROMPT_KEYS = {"name", "prompt", "default", "private", "confirm", "unsafe"}
#: Ansible's keys that celeryroot refuses rather than ignore: the answer would not be what the play expects.
REFUSED = {"encrypt": "hashing an answer (encrypt) is not supported; hash it with the password_hash filter",
           "salt_size": "salt_size goes with encrypt, which is not supported",
           "salt": "salt goes with encrypt, which is not supported"}


def answer_prompts(node: dict, extra_vars: dict, ask) -> dict:
    """The play's prompted variables: ``{name: answer}`` for those that
    ``extra_vars`` does not answer. ``ask(prompt, private)`` returns what the
    operator typed, or is None where there is no terminal."""
    answers: dict = {}
    prompts = expect_list(node.get("vars_prompt"), value_where(node, "vars_prompt"), "vars_prompt")
    for index, entry in enumerate(prompts):
        at = item_where(prompts, index)
        entry = expect_mapping(entry, at, "a vars_prompt entry")
        for key, why in REFUSED.items():
            if key in entry:
                raise InputError(value_where(entry, key), f"vars_prompt: {why}")
        _reject_unknown(entry, PROMPT_KEYS, "vars_prompt key")
        if "name" not in entry:
            raise InputError(at, "a vars_prompt entry needs 'name'")
        name = str(entry["name"])
        if name in extra_vars:
            continue
        text = str(entry.get("prompt") or name)
        if ask is not None:
            answer = _ask(ask, text, entry, at)
        elif "default" in entry:
            answer = plain(entry["default"])
        else:
            raise InputError(at, f"vars_prompt '{name}' has no answer and there is no terminal to ask on: "
                                 f"give it with -e {name}=VALUE, or give the prompt a default")
        if entry.get("unsafe") and is_template(answer):
            answer = "{% raw %}" + answer + "{% endraw %}"  # taken as typed: braces stay text
        answers[name] = answer
    return answers


def _ask(ask, text: str, entry: dict, at):
    default = plain(entry.get("default"))
    private = bool(entry.get("private", True))
    shown = f"{text} [{default}]: " if default is not None else f"{text}: "
    try:
        answer = ask(shown, private)
        again = ask(f"confirm {shown}", private) if entry.get("confirm") else answer
    except EOFError:
        raise InputError(at, f"vars_prompt '{entry['name']}': the input ended before an answer") from None
    if again != answer:
        raise InputError(at, f"vars_prompt '{entry['name']}': the answers given do not match")
    return default if answer == "" and default is not None else answer
