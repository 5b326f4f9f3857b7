"""Keywords that Ansible spends on connecting, and what they mean here.

A host is run by its own worker, so a playbook written for SSH names a
connection, a login user, a port and a way to become root that celeryroot
has no use for. They are accepted so that such a playbook runs unchanged;
each has one meaning, said in the README's "Keywords without SSH" table:
ignored (with a one-line note where the user would expect an effect),
refused where ignoring would do something else than the playbook says,
or carried to the run (``timeout``, ``throttle``, ``module_defaults``,
``become_user``, ``delegate_to``, ``delegate_facts``). Plays, blocks, imports and tasks read
them here, once, into what a `Scope` passes down.
"""

from __future__ import annotations

from ..module import boolean
from .source import InputError, expect_list, expect_mapping, key_where, plain, type_name, value_where, warn
from .templating import is_template

#: What a play, a block, an import and a task all take, and their children inherit.
INHERITED = {"connection", "remote_user", "port", "become_user", "become_method", "become_flags", "timeout",
             "throttle", "module_defaults", "collections", "debugger"}
#: What blocks and tasks take (a block's tasks inherit them), plays not.
TASK_ONLY = {"delegate_to", "delegate_facts"}
#: Connections whose outcome is the worker's: the task runs on the host itself.
ON_THE_HOST = {"local", "ssh", "smart", "paramiko", "paramiko_ssh"}
DEBUGGER = ("always", "never", "on_failed", "on_unreachable", "on_skipped")
#: ``become_user`` values that are what the worker does anyway.
AS_THE_WORKER = {"root"}
#: ``delegate_to`` names that mean the controller's own machine, unless
#: the inventory has a host of that name (then its worker runs the task).
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


def read(node: dict) -> dict:
    """Validate ``node``'s keywords of this family; say the notes; return
    what its tasks inherit (``timeout``, ``throttle``, ``module_defaults``,
    ``become``, ``become_user``, ``delegate_to``, ``delegate_facts``)."""
    out: dict = {}
    for key in ("remote_user", "become_method", "become_flags"):
        if key in node and not isinstance(node[key], str):
            raise InputError(value_where(node, key), f"'{key}' must be a string, got {type_name(node[key])}")
    if "connection" in node:
        connection = node["connection"]
        if not isinstance(connection, str):
            raise InputError(value_where(node, "connection"), f"'connection' must be a string, got "
                                                              f"{type_name(connection)}")
        if connection not in ON_THE_HOST:
            warn(value_where(node, "connection"), f"connection '{connection}' is ignored: each host's own worker "
                                                  "runs its tasks on the host")
    if "remote_user" in node:
        warn(value_where(node, "remote_user"), f"remote_user '{node['remote_user']}' is ignored: there is no "
                                               "login; tasks run as the host's worker runs (root by default)")
    if "become_user" in node:
        if not isinstance(node["become_user"], str) or not node["become_user"].strip():
            raise InputError(value_where(node, "become_user"), "'become_user' must be a user name")
        # With ``become``, the task's module runs as this user (engine/become.py).
        out["become_user"] = node["become_user"]
    if "become" in node:
        # A template is rendered per host by the step (it decides become_user there).
        try:
            out["become"] = node["become"] if is_template(node["become"]) else boolean(node["become"])
        except ValueError:
            raise InputError(value_where(node, "become"), "'become' must be a boolean") from None
    if "delegate_to" in node:
        if not isinstance(node["delegate_to"], str) or not node["delegate_to"].strip():
            raise InputError(value_where(node, "delegate_to"), "'delegate_to' must be a host's name")
        out["delegate_to"] = node["delegate_to"]
    if "debugger" in node:
        if node["debugger"] not in DEBUGGER:
            raise InputError(value_where(node, "debugger"), f"'debugger' must be one of: {', '.join(DEBUGGER)}")
        if node["debugger"] != "never":
            warn(value_where(node, "debugger"), "debugger is ignored: celeryroot has no interactive task "
                                                "debugger (-v shows a failed task's whole result)")
    if "collections" in node:
        names = expect_list(node["collections"], value_where(node, "collections"), "collections")
        if not all(isinstance(n, str) for n in names):
            raise InputError(value_where(node, "collections"), "'collections' must be a list of names")
    if "delegate_facts" in node:
        try:
            out["delegate_facts"] = boolean(node["delegate_facts"])
        except ValueError:
            raise InputError(value_where(node, "delegate_facts"), "'delegate_facts' must be a boolean") from None
    if "timeout" in node:
        # A template is rendered per host by the step (a role parameter may be one).
        out["timeout"] = node["timeout"] if is_template(node["timeout"]) else _number(node, "timeout")
    if "throttle" in node:
        out["throttle"] = _number(node, "throttle")
    if "module_defaults" in node:
        out["module_defaults"] = module_defaults(node)
    return out


def _number(node: dict, key: str) -> int:
    try:
        return whole_number(key, node[key])
    except ValueError as exc:
        hint = " (a template is not taken here)" if is_template(node[key]) else ""
        raise InputError(value_where(node, key), f"{exc}{hint}") from None


def whole_number(key: str, value) -> int:
    """``timeout`` and ``throttle``: 0 or more (0 is no limit)."""
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise ValueError(f"'{key}' must be a whole number of 0 or more, got {value!r}")
    return int(value)


def module_defaults(node: dict) -> list[tuple[str, str, object, object]]:
    """``module_defaults`` (a mapping, or a list of them) as (module, argument,
    value, where) in the order written; ``group/…`` names a collection's
    group of modules, which celeryroot does not have: a note, and no effect."""
    raw = node["module_defaults"]
    at = value_where(node, "module_defaults")
    entries = expect_list(raw, at, "module_defaults") if isinstance(raw, list) else [raw]
    out = []
    for entry in entries:
        entry = expect_mapping(entry, at, "module_defaults")
        for module, args in entry.items():
            module = str(module)
            if module.startswith("group/"):
                warn(key_where(entry, module), f"module_defaults for '{module}' is ignored: module groups belong "
                                               "to collections, which celeryroot does not load")
                continue
            args = expect_mapping(args, value_where(entry, module), f"module_defaults for '{module}'")
            out += [(module, str(k), plain(v), key_where(args, k)) for k, v in args.items()]
    return out
