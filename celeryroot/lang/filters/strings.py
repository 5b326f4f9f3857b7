"""Filters of text: regular expressions, comments, quoting, encodings and
digests, and the small conversions (bool, ternary, mandatory, type_debug)."""

from __future__ import annotations

import base64
import hashlib
import re
import shlex
import uuid

from jinja2 import Undefined
from jinja2.exceptions import FilterArgumentError, UndefinedError


UUID_NAMESPACE = uuid.UUID("361E6D51-FAEC-444A-9079-341386DA8E2E")  # Ansible's, so to_uuid agrees


#: The bool filter's words (in any case), fewer than arguments take (no y, t, n, f).
BOOL_WORDS = {"yes": True, "on": True, "true": True, "1": True, "no": False, "off": False, "false": False, "0": False}


def to_bool(value):
    """Ansible's ``bool``: its words, or an integer 0 or 1; anything else is
    what ansible-core 2.19 still coerces it to (with a deprecation): true
    only if it equals 1 (``1.0``), false otherwise (None, ``' yes '``)."""
    word = value.lower() if isinstance(value, str) else str(value).lower() if isinstance(value, int) else value
    if isinstance(word, str) and word in BOOL_WORDS:
        return BOOL_WORDS[word]
    return isinstance(word, (int, float)) and word == 1


def ternary(value, true_value, false_value, none_value=None):
    if value is None and none_value is not None:
        return none_value
    return true_value if value else false_value


def mandatory(value, msg=None):
    if isinstance(value, Undefined):
        raise UndefinedError(msg or f"Mandatory variable {value._undefined_name!r} not defined.")
    return value


def flags(ignorecase: bool, multiline: bool) -> int:
    return (re.I if ignorecase else 0) | (re.M if multiline else 0)


def regex_replace(value, pattern, replacement="", ignorecase=False, multiline=False, count=0, mandatory_count=0):
    """``mandatory_count``: fail unless the pattern is replaced that many times."""
    out, done = re.subn(pattern, replacement, str(value), count=count, flags=flags(ignorecase, multiline))
    if mandatory_count and done != mandatory_count:
        raise FilterArgumentError(f"{pattern!r} should match {mandatory_count} times, but matches {done} times "
                                  f"in {str(value)!r}")
    return out


def regex_search(value, pattern, *groups, ignorecase=False, multiline=False):
    """The match, or with ``'\\\\1'``/``'\\\\g<name>'`` arguments a list of those groups."""
    match = re.search(pattern, str(value), flags(ignorecase, multiline))
    if not match:
        return None
    if not groups:
        return match.group(0)
    names = [int(g[1:]) if g[1:].isdigit() else g[3:-1] for g in groups]
    return [match.group(n) for n in names]


def regex_findall(value, pattern, ignorecase=False, multiline=False):
    return re.findall(pattern, str(value), flags(ignorecase, multiline))


def regex_escape(value, re_type="python"):
    """``posix_basic`` escapes only what a basic regular expression (sed, grep) treats specially."""
    if re_type == "posix_basic":
        return re.sub(r"([].[^$*\\])", r"\\\1", str(value))
    if re_type != "python":
        raise FilterArgumentError(f"regex_escape: re_type must be python or posix_basic, got {re_type!r}")
    return re.escape(str(value))


#: Each style's beginning, decoration and end.
COMMENT_STYLES = {"plain": ("", "# ", ""), "erlang": ("", "% ", ""), "c": ("", "// ", ""),
                  "cblock": ("/*", " * ", " */"), "xml": ("<!--", " - ", "-->")}


def comment(text, style="plain", decoration=None, beginning=None, end=None, prefix=None, prefix_count=1,
            postfix=None, postfix_count=1, newline="\n"):
    """``text`` as a comment block: a beginning line, prefix lines, each line
    of the text behind the decoration, postfix lines, an end line. The
    prefix and postfix default to the decoration without its trailing
    space; an empty line inside the text gets that too, the last line the
    whole decoration."""
    if style not in COMMENT_STYLES:
        raise FilterArgumentError(f"Invalid style {style!r}.")
    first, deco, last = COMMENT_STYLES[style]
    deco = deco if decoration is None else decoration
    first = first if beginning is None else beginning
    last = last if end is None else end
    prefix = deco.rstrip() if prefix is None else prefix
    postfix = deco.rstrip() if postfix is None else postfix
    *lines, final = str(text).split(newline)
    body = [deco + line if line else deco.rstrip() for line in lines] + [deco + final]
    return "".join([first + newline if first else "", (prefix + newline) * prefix_count if prefix else "",
                    newline.join(body), (newline + postfix) * postfix_count, newline + last if last else ""])


def quote(value):
    return shlex.quote("" if value is None else str(value))


def b64encode(value, encoding="utf-8"):
    return base64.b64encode(str(value).encode(encoding)).decode("ascii")


def b64decode(value, encoding="utf-8", urlsafe=False):
    text = str(value)
    return (base64.urlsafe_b64decode(text) if urlsafe else base64.b64decode(text)).decode(encoding)


def hash_filter(value, algorithm="sha1"):
    if algorithm not in hashlib.algorithms_available:
        raise FilterArgumentError(f"hash: unknown algorithm {algorithm!r}")
    return hashlib.new(algorithm, str(value).encode()).hexdigest()


def to_uuid(value, namespace=UUID_NAMESPACE):
    try:
        space = namespace if isinstance(namespace, uuid.UUID) else uuid.UUID(str(namespace))
    except ValueError as exc:
        raise FilterArgumentError(f"to_uuid: invalid namespace {namespace!r}: {exc}") from None
    return str(uuid.uuid5(space, str(value)))


def split(value, sep=None, maxsplit=-1):
    return str(value).split(sep, maxsplit)


def type_debug(value) -> str:
    return type(value).__name__


FILTERS = {
    "bool": to_bool, "ternary": ternary, "mandatory": mandatory, "type_debug": type_debug,
    "regex_replace": regex_replace, "regex_search": regex_search, "regex_findall": regex_findall,
    "regex_escape": regex_escape, "comment": comment, "quote": quote, "split": split,
    "b64encode": b64encode, "b64decode": b64decode, "to_uuid": to_uuid,
    "hash": hash_filter, "checksum": hash_filter, "sha1": hash_filter, "md5": lambda v: hash_filter(v, "md5"),
}
