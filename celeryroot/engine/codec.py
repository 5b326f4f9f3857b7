"""A whole play as JSON, the controller files it reads, and a host's part
of the run's state: what a bundle carries (see controller/bundles.py for
the sending side, worker/bundle.py for the host's side). The state goes
out and comes back through the same two functions."""

from __future__ import annotations

import base64
import dataclasses
import os
from pathlib import Path

from ..lang.playbook import Play
from ..lang.source import Where
from ..lang.tasks import Block, Task, walk
from ..modules.include_vars import named_files
from .state import HostState

#: Files a bundle may carry from the controller, in all.
SOURCES_LIMIT = 8 << 20
SOURCE_FOLDERS = ("templates", "files")


# -- the play as JSON ---------------------------------------------------------

def encode_nodes(nodes: list) -> list:
    out = []
    for node in nodes:
        if isinstance(node, Block):
            out.append({"block": encode_nodes(node.block), "rescue": encode_nodes(node.rescue),
                        "always": encode_nodes(node.always), "name": node.name, "where": _where(node.where)})
        else:
            fields = dataclasses.asdict(node)
            fields["where"] = _where(node.where)
            out.append({"task": fields})
    return out


def decode_nodes(items: list) -> list:
    out = []
    for item in items:
        if "block" in item:
            out.append(Block(item["name"], Where(**item["where"]), decode_nodes(item["block"]),
                             decode_nodes(item["rescue"]), decode_nodes(item["always"])))
        else:
            out.append(decode_task(item["task"]))
    return out


def decode_task(fields: dict) -> Task:
    fields = dict(fields)
    fields["where"] = Where(**fields["where"])
    fields["tags"] = tuple(fields["tags"])
    fields["search"] = tuple(fields["search"])
    return Task(**fields)


def _where(where: Where | None) -> dict:
    return dataclasses.asdict(where) if where else {"file": "<bundle>"}


def encode_play(play: Play) -> dict:
    return {"name": play.name, "hosts": play.hosts, "where": _where(play.where),
            "sections": [encode_nodes(s) for s in play.sections],
            "handlers": encode_nodes(play.handlers), "gather_facts": play.gather_facts,
            "check_mode": play.check_mode, "diff": play.diff, "force_handlers": play.force_handlers,
            "fact_args": play.fact_args, "when": play.when, "tags": list(play.tags)}


def decode_play(doc: dict) -> Play:
    return Play(name=doc["name"], hosts=doc["hosts"], where=Where(**doc["where"]),
                sections=[decode_nodes(s) for s in doc["sections"]], handlers=decode_nodes(doc["handlers"]),
                gather_facts=doc["gather_facts"], check_mode=doc["check_mode"], diff=doc["diff"],
                force_handlers=doc["force_handlers"], fact_args=doc.get("fact_args", {}), when=doc["when"], tags=tuple(doc["tags"]))


# -- a host's part of the run's state as JSON ----------------------------------

def encode_state(part: HostState) -> dict:
    return {"registered": part.registered, "included": part.included, "facts": part.facts, "overlay": sorted(part.overlay),
            "out": part.out, "pending_handlers": sorted(part.pending_handlers), "stats": part.stats}


def decode_state(doc: dict) -> HostState:
    return HostState(registered=doc["registered"], included=doc["included"], facts=doc["facts"], overlay=set(doc["overlay"]),
                     out=doc["out"], pending_handlers=set(doc["pending_handlers"]), stats=doc["stats"])


# -- what a bundle reads from the controller's disk ---------------------------

def collect_sources(play: Play) -> dict[str, dict[str, list]]:
    """``{search_dir: {relative_path: [mode, base64]}}``: the templates/ and files/
    folders of every directory the play's tasks look in, the files named by
    a static ``src`` directly in one, and what include_vars reads (a file
    named by a template is not known here: such plays run linearly,
    engine/execution.py)."""
    tasks = play.tasks + play.handlers
    out: dict[str, dict[str, str]] = {}
    total = 0
    for directory in dict.fromkeys(d for t in tasks for d in t.search):
        files = out.setdefault(directory, {})
        base = Path(directory)
        candidates = [p for folder in SOURCE_FOLDERS if (base / folder).is_dir()
                      for p in (base / folder).rglob("*") if p.is_file()]
        # Within the folder: an absolute src elsewhere is no file of the play's (fetch's is the host's).
        candidates += [base / str(t.args["src"]) for t in tasks if isinstance(t.args.get("src"), str)
                       and (base / str(t.args["src"])).is_file()
                       and os.path.commonpath([str(base), os.path.abspath(base / str(t.args["src"]))]) == str(base)]
        candidates += [p for t in tasks if t.module == "include_vars" for p in _vars_sources(t, base)]
        for path in candidates:
            data = path.read_bytes()
            total += len(data)
            if total > SOURCES_LIMIT:
                raise ValueError(f"the play's templates and files exceed {SOURCES_LIMIT >> 20} MiB; "
                                 f"run it with strategy: linear")
            # The mode travels too: copy's mode=preserve gives the source's.
            files[str(path.relative_to(base))] = [path.stat().st_mode & 0o7777, base64.b64encode(data).decode()]
    return out


def _vars_sources(task: Task, base: Path) -> list[Path]:
    """The files under ``base`` an include_vars task may read (execution.py
    keeps the tasks whose files are known only when they run out of bundles)."""
    paths = named_files(task.args, task.search) or []
    return [Path(p) for p in paths if os.path.commonpath([str(base), os.path.abspath(p)]) == str(base)]


def source_texts(sources: dict[str, dict[str, list]]):
    """The text of each file of a bundle that is text (a template may be any of them)."""
    for files in sources.values():
        for _, data in files.values():
            try:
                yield base64.b64decode(data).decode()
            except UnicodeDecodeError:
                continue  # not text, so no template


def unpack_sources(sources: dict[str, dict[str, list]], into: str) -> dict[str, str]:
    """Write the bundle's files under ``into``; map each controller directory
    to its local copy."""
    mapping = {}
    for index, (directory, files) in enumerate(sources.items()):
        local = os.path.join(into, str(index))
        os.makedirs(local, exist_ok=True)
        for relative, (mode, data) in files.items():
            path = os.path.join(local, relative)
            if os.path.commonpath([local, os.path.abspath(path)]) != local:
                continue  # never write outside the bundle's own folder
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(base64.b64decode(data))
            os.chmod(path, int(mode))
        mapping[directory] = local
    return mapping


def homeward(value, mapping: dict[str, str]):
    """``value`` with each local copy's path (`unpack_sources`) written as
    the controller's directory again: what a bundle reports names the
    controller's files, as the linear run does (include_vars' files)."""
    if isinstance(value, str):
        for directory, local in mapping.items():
            value = directory if value == local else value.replace(local + os.sep, directory + os.sep)
        return value
    if isinstance(value, dict):
        return {k: homeward(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [homeward(v, mapping) for v in value]
    return value


def relocate(nodes: list, mapping: dict[str, str]) -> None:
    for task in walk(nodes):
        task.search = tuple(mapping.get(d, d) for d in task.search)
