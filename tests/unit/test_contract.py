"""The module contract on a temporary directory: plans of typed changes,
apply from the plan alone, commands run by the runner, and the check-mode
overlay as the union of what the changes create."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from celeryroot.engine.runner import run_call, run_calls
from celeryroot.host.fileops import AttributeChange, ContentChange
from celeryroot.module import ArgError, Change, Context, Created, Plan, build_args
from celeryroot.registry import Registry

from .conftest import REGISTRY, run

ROOT = Path(__file__).resolve().parents[2]


def module(module_name: str, check: bool = False, overlay: frozenset = frozenset(), registry=REGISTRY, **raw):
    """A module instance as the runner makes it, to look at its plan."""
    cls = registry.get(module_name)
    return cls(build_args(cls.Args, raw), Context(check=check, overlay=overlay))


def test_a_name_is_the_same_however_the_path_is_spelled():
    assert Created.path("/srv/app/") == Created.path("/srv//app") == Created.path("/srv/x/../app")
    assert len({Created.package("x"), Created.user("x"), Created.group("x"), Created.path("x")}) == 4


def test_a_plan_creates_the_union_of_its_changes():
    plan = Plan([Change("a", creates=frozenset({"/a", "/b"})), Change("b"), Change("c", creates=frozenset({"/b", "/c"}))])
    assert plan.creates == {"/a", "/b", "/c"}
    assert Plan().creates == frozenset()


def test_file_plans_typed_changes_and_applies_them_from_the_plan(tmp_path):
    target = tmp_path / "a" / "b"
    file = module("file", path=str(target), state="directory", mode="0750")
    plan = file.plan()
    create, mode = plan.changes
    assert (create.kind, mode.what) == ("directory", "mode new -> 0750")
    assert plan.creates == {Created.path(tmp_path / "a"), Created.path(target)}, "makedirs makes the parents too"
    assert isinstance(mode, AttributeChange) and mode.wanted.mode == "0750"
    assert not target.exists(), "planning changes nothing"
    file.apply(plan)
    assert target.is_dir() and target.stat().st_mode & 0o7777 == 0o750


def test_copy_writes_the_bytes_its_plan_carries(tmp_path):
    dest = tmp_path / "conf"
    copy = module("copy", content="planned\n", dest=str(dest))
    plan = copy.plan()
    (change,) = plan.changes
    assert isinstance(change, ContentChange) and change.data == b"planned\n"
    assert change.creates == {Created.path(dest)}
    copy.apply(plan)
    assert dest.read_text() == "planned\n"
    update = module("copy", content="again\n", dest=str(dest)).plan()
    assert update.changes[0].creates == frozenset(), "a file that is there is not created"


def test_the_overlay_is_what_earlier_changes_create(tmp_path):
    """In one check run, a file into a directory that an earlier task would
    make predicts changed; what the calls predict is their plans' creates."""
    folder, conf = tmp_path / "etc" / "app", tmp_path / "etc" / "app" / "app.conf"
    calls = [{"module": "file", "args": {"path": str(folder), "state": "directory"}, "check": True},
             {"module": "copy", "args": {"content": "x\n", "dest": str(conf)}, "check": True},
             {"module": "file", "args": {"path": str(conf), "state": "file", "mode": "0600"}, "check": True}]
    out = run_calls(REGISTRY, calls)
    assert [r["changed"] for r in out["results"]] == [True, True, True], out
    assert set(out["predicted"]) == {Created.path(tmp_path / "etc"), Created.path(folder), Created.path(conf)}
    assert not (tmp_path / "etc").exists()
    alone = run("copy", check=True, content="x\n", dest=str(conf))
    assert alone["failed"] and "does not exist" in alone["msg"], "without the overlay it fails, as the real run"


def test_a_group_asked_about_is_the_name_a_group_task_creates(tmp_path):
    group = module("group", check=True, name="celeryroot-test-nobody-has-this")
    assert group.plan().creates == {Created.group("celeryroot-test-nobody-has-this")}
    path = tmp_path / "f"
    path.write_text("x")
    res, _ = run_call(REGISTRY, {"module": "file", "args": {"path": str(path), "group": "celeryroot-test-nobody-has-this"},
                                 "check": True}, overlay=group.plan().creates)
    assert res["changed"] and not res["failed"], res


def test_the_runner_runs_a_plans_commands(tmp_path):
    """A module whose changes are commands needs no apply of its own."""
    (tmp_path / "mark.py").write_text(textwrap.dedent('''
        from dataclasses import dataclass
        from celeryroot.host.sysops import CommandChange
        from celeryroot.module import Created, Module, Plan, arg

        class Mark(Module):
            """Touch a file with touch(1)."""
            name = "mark"

            @dataclass(frozen=True, kw_only=True)
            class Args:
                path: str = arg(doc="The file.")

            def plan(self):
                made = frozenset({Created.path(self.args.path)})
                return Plan([CommandChange(f"touch {self.args.path}", argv=("touch", self.args.path), creates=made),
                             CommandChange("say so", argv=("echo", "marked"))])
    '''))
    registry = Registry([str(tmp_path)])
    target = tmp_path / "marked"
    call = {"module": "mark", "args": {"path": str(target)}}
    checked, predicted = run_call(registry, {**call, "check": True})
    assert checked["changed"] and predicted == {Created.path(target)} and not target.exists()
    applied, _ = run_call(registry, call)
    assert applied["changed"] and target.exists() and applied["stdout"] == "marked", applied


def test_stamp_follows_the_contract(tmp_path):
    site = Registry([str(ROOT / "modules")])
    with pytest.raises(ArgError):
        build_args(site.get("stamp").Args, {"path": "/x", "owner": " "})
    path = tmp_path / "sub" / "managed"
    missing = run_call(site, {"module": "stamp", "args": {"path": str(path), "owner": "ops"}, "check": True})[0]
    assert missing["failed"], "no directory to write into"
    overlay = frozenset({Created.path(path.parent)})
    stamp = module("stamp", check=True, overlay=overlay, registry=site, path=str(path), owner="ops")
    assert stamp.plan().creates == {Created.path(path)}
    path.parent.mkdir()
    stamp = module("stamp", registry=site, path=str(path), owner="ops")
    stamp.apply(stamp.plan())
    assert "on behalf of ops" in path.read_text() and oct(path.stat().st_mode & 0o777) == "0o644"
    assert not stamp.plan().changes


def test_the_readme_shows_stamp_as_it_is():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Writing a module", 1)[1]
    (shown,) = re.findall(r"```python\n(.*?)```", section, re.S)
    source = (ROOT / "modules" / "stamp.py").read_text()
    assert textwrap.indent(shown, "    ") in source, "README's excerpt of modules/stamp.py differs from the file"


def test_no_module_spells_an_overlay_name_itself():
    """Names are made by Created alone, and no module predicts by hand."""
    for path in [*(ROOT / "celeryroot" / "modules").glob("*.py"), ROOT / "modules" / "stamp.py",
                 *(ROOT / "celeryroot" / "host").glob("*.py")]:
        text = path.read_text()
        assert not re.search(r"""["'](package|user|group):[^\s"']""", text), path
        assert "def predicts" not in text, path
        assert "self.pending" not in text, path


def test_an_alias_is_the_same_module_under_another_name(tmp_path):
    """systemd_service (Ansible's name since 2.14) is systemd itself, not a copy."""
    systemd = REGISTRY.get("systemd")
    for name in ("systemd_service", "ansible.builtin.systemd_service", "ansible.legacy.systemd_service"):
        assert REGISTRY.resolve(name) == "systemd" and REGISTRY.get(name) is systemd
    assert "systemd_service" in REGISTRY.names()
    (tmp_path / "systemd_service.py").write_text(textwrap.dedent("""
        from celeryroot.module import Module

        class Mine(Module):
            name = "systemd_service"
    """))
    site = Registry([str(tmp_path)])
    assert site.resolve("systemd_service") == "systemd_service", "a site module of that name is the site's"
    assert site.get("systemd_service").__name__ == "Mine"


def test_a_package_whose_files_are_unknown_may_ship_any_path(tmp_path):
    """Where a check could not read a package's files, a later task takes a
    missing path as the package's, and its message says why (never fails)."""
    overlay = frozenset({Created.unlisted("tinypkg")})
    ctx = Context(check=True, overlay=overlay)
    assert ctx.would_exist(Created.path("/etc/tinypkg")) and ctx.assumed == ["/etc/tinypkg"]
    assert not ctx.would_exist(Created.user("tiny")), "only paths: a user is no package's file"
    assert not Context(overlay=overlay).would_exist(Created.path("/etc/tinypkg")), "a real run knows"
    dest = tmp_path / "etc/tinypkg/conf"
    res, _ = run_call(REGISTRY, {"module": "copy", "args": {"content": "x\n", "dest": str(dest)}, "check": True},
                      overlay)
    assert res["changed"] and not res["failed"], res
    assert f"assuming {dest.parent}" in res["msg"] and "would install tinypkg, whose files could not be read" \
        in res["msg"], res["msg"]


def test_a_package_may_create_accounts_no_file_list_tells(tmp_path):
    """haproxy's postinst makes its user and group: after a task that would
    install a package, a check takes a missing account as the package's and
    says so, where the real run may well succeed (Ansible's --check
    predicts changed there too: tests/test_containers_differential.py)."""
    path = tmp_path / "f"
    path.write_text("x")
    call = {"module": "file", "args": {"path": str(path), "owner": "celeryroot-test-no-user",
                                       "group": "celeryroot-test-no-group"}, "check": True}
    res, _ = run_call(REGISTRY, call, frozenset({Created.package("haproxy")}))
    assert res["changed"] and not res["failed"], res
    assert ("assuming group celeryroot-test-no-group, user celeryroot-test-no-user will exist: an earlier task "
            "would install haproxy, whose maintainer scripts may create accounts") in res["msg"], res["msg"]
    alone, _ = run_call(REGISTRY, call, frozenset())
    assert alone["failed"] and "does not exist on this host" in alone["msg"], "nothing would install a package"
