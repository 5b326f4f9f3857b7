"""celeryroot-doc: a module's documentation, or the list of modules, as ansible-doc shows them."""

from __future__ import annotations

import argparse
import sys


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="celeryroot-doc", description=__doc__.splitlines()[0])
    p.add_argument("module", nargs="?", help="the module to document")
    p.add_argument("-l", "--list", action="store_true", help="list every module with its one-line summary")
    p.add_argument("-M", "--modules-path", action="append", default=[],
                   help="directory of site modules (repeatable; also modules_path from the configuration "
                        "and ./modules)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    opts = parse_args(argv)
    # Imported here so that --help answers at once, and nothing pulls in Celery.
    from ..config import load_config
    from ..registry import Registry
    from ..lang.source import InputError

    try:
        config = load_config()
    except InputError as exc:
        print(f"celeryroot-doc: {exc}", file=sys.stderr)
        return 1
    registry = Registry([*config.modules_path, *opts.modules_path, "modules"])
    if opts.list:
        names = registry.names()
        width = max(len(n) for n in names)
        for name in names:
            own = registry.resolve(name)
            print(f"{name:<{width}}  " + (f"(another name of {own})" if own != name else registry.get(name).summary()))
        return 0
    if not opts.module:
        print("celeryroot-doc: name a module, or use --list", file=sys.stderr)
        return 2
    cls = registry.get(opts.module)
    if cls is None:
        print(f"celeryroot-doc: no module named '{opts.module}' (see celeryroot-doc --list)", file=sys.stderr)
        return 1
    print(describe(cls))
    return 0


def describe(cls) -> str:
    """The module's docstring, its arguments from the ``Args`` spec, and its example."""
    import inspect

    text = inspect.getdoc(cls) or ""
    body, _, example = text.partition("\nExample:\n")
    out = [f"> {cls.name.upper()}    ({inspect.getsourcefile(cls)})", "", _indent(body.strip(), 2), "",
           "OPTIONS (= is mandatory):", ""]
    for line in _options(cls.Args):
        out.append(line)
    if cls.free_form:
        out += [f"The free form (`{cls.name}: ...`) is the '{cls.free_form}' option.", ""]
    if example.strip():
        out += ["EXAMPLES:", "", _indent(inspect.cleandoc(example), 2), ""]
    return "\n".join(out)


def _options(args_cls) -> list[str]:
    import dataclasses
    import textwrap

    from ..module import type_hints

    hints = type_hints(args_cls)
    lines = []
    for f in sorted(dataclasses.fields(args_cls), key=lambda f: f.name):
        if f.name.startswith("_"):
            continue  # filled in by the controller, not written by users
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        lines.append(f"{'=' if required else '-'} {f.name}")
        lines.append(textwrap.fill(f.metadata.get("doc") or "(undocumented)", 100, initial_indent=" " * 8,
                                   subsequent_indent=" " * 8))
        if f.metadata.get("aliases"):
            lines.append(f"        aliases: {', '.join(f.metadata['aliases'])}")
        if f.metadata.get("choices"):
            lines.append(f"        choices: [{', '.join(str(c) for c in f.metadata['choices'])}]")
        if not required:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            lines.append(f"        default: {_shown(default)}")
        lines.append(f"        type: {_type_name(hints[f.name])}")
        lines.append("")
    return lines


def _type_name(hint) -> str:
    import types
    import typing

    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(h) for h in typing.get_args(hint) if h is not type(None)]
        return " or ".join(names)
    if origin is list:
        return f"list of {_type_name(typing.get_args(hint)[0])}" if typing.get_args(hint) else "list"
    if origin is dict or hint is dict:
        return "dict"
    return getattr(hint, "__name__", "any").replace("Any", "any")


def _shown(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _indent(text: str, width: int) -> str:
    return "\n".join((" " * width + line) if line else "" for line in text.splitlines())


if __name__ == "__main__":
    sys.exit(main())
