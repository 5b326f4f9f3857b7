"""apt_repository (and apt_key) against apt's own directories of a test's
APT_CONFIG: a sources.list, a sources.list.d and lists of their own, so the
host's apt is never read or changed. The source added is tests/debrepo.py's
local repository, so update_cache runs a real apt-get update offline."""

from __future__ import annotations

import os
import re

import pytest

from conftest import bad_argument_fails, free_port
from debrepo import Repo, apt_config
from systable import SysCase, run_three


@pytest.fixture(scope="module")
def apt(tmp_path_factory):
    """The repository, and apt's directories: ``main`` (sources.list), ``parts``, ``lists``."""
    work = tmp_path_factory.mktemp("aptsources")
    repo = Repo.build(work / "repo", daemon_port=free_port())
    main, parts, lists = work / "sources.list", work / "sources.list.d", work / "lists"
    main.write_text("# the host's own\n")
    parts.mkdir()
    config = apt_config(work / "apt.conf", main, f"{parts}/", lists)
    return {"repo": repo, "main": main, "parts": parts, "lists": lists, "config": config}


def sources(apt) -> dict:
    """Every source file's text and mode, and whether apt has the repository's list."""
    files = [apt["main"], *sorted(apt["parts"].iterdir())]
    out = {p.name: (p.read_text(), oct(p.stat().st_mode & 0o777)) for p in files}
    out["listed"] = any("_Packages" in name for name in os.listdir(apt["lists"]))
    return out


def test_steps(fleet, play, apt, tmp_path):
    env = f"environment: {{APT_CONFIG: '{apt['config']}'}}"
    pool = apt["repo"].pool
    line = f"deb [trusted=yes] file:{pool} ./"
    default = "file_" + "_".join(re.sub(r"[^a-zA-Z0-9]", " ", str(pool)).split()) + ".list"
    steps = [
        SysCase("add", f"apt_repository: repo='{line}' filename=crtest",
                then={"crtest.list": (line + "\n", "0o644"), "listed": True}, diff=f"+{line}"),
        SysCase("spelled-otherwise", f"apt_repository:\n  repo: 'deb  [ trusted=yes ]  file:{pool} ./ # ours'\n"
                                     "  filename: other", changed=False),
        SysCase("mode", f"apt_repository: repo='{line}' filename=crtest mode=0600",
                then={"crtest.list": (line + "\n", "0o600")}),
        SysCase("remove", f"apt_repository: repo='{line}' state=absent update_cache=no",
                then={"crtest.list": None}),
        SysCase("default-filename", f"apt_repository: repo='{line}' update_cache=no",
                then={default: (line + "\n", "0o644")}),
        SysCase("second-line", f"apt_repository: repo='deb-src file:{pool} ./' update_cache=no",
                then={default: (f"{line}\ndeb-src file:{pool} ./\n", "0o644")}),
        SysCase("remove-one-of-two", f"apt_repository: repo='{line}' state=absent update_cache=no",
                then={default: (f"deb-src file:{pool} ./\n", "0o644")}),
    ]
    apt["main"].write_text("# the host's own\n")
    results = {}
    for step in steps:
        results[step.id] = run_three(play, tmp_path, step, lambda: sources(apt), task_extra=env)
    assert results["add"]["apply"]["sources_added"] == [str(apt["parts"] / "crtest.list")]
    assert results["remove"]["apply"]["sources_removed"] == [str(apt["parts"] / "crtest.list")]
    assert results["spelled-otherwise"]["apply"]["msg"] == f"{line} is in {apt['parts'] / 'crtest.list'}"


@pytest.mark.parametrize("args,name,needle", [
    ({"repo": "ppa:someone/thing"}, "repo", "ppa: repositories are not supported"),
    ({"repo": "http://example.org/debian stable"}, "repo", "is not a source line"),
    ({"repo": "deb http://example.org/debian stable", "filename": "a/b"}, "filename", "without a '/'"),
    ({"repo": "deb http://example.org/debian stable", "state": "enabled"}, "state", "must be one of"),
], ids=["ppa", "no-type", "filename-slash", "state"])
def test_bad_arguments_fail_on_the_controller(play, tmp_path, args, name, needle):
    bad_argument_fails(play, tmp_path, "apt_repository", args, name, needle)
