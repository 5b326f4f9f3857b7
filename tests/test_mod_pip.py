"""pip: a table run --check, apply, apply again, in virtualenvs made here,
installing from a local directory of wheels built here (no network)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ABSENT, Case, Table, bad_argument_fails

PYTHON = sys.executable
SITE = f"venv/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"
LOCAL = "--no-index --find-links={{ d }}/../wheels"


def wheel(directory: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> None:
    """A pure-Python wheel, zipped by hand: pip needs no build backend for it."""
    info = f"{name}-{version}.dist-info"
    files = {f"{name}/__init__.py": f"VERSION = '{version}'\n",
             f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                 + "".join(f"Requires-Dist: {r}\n" for r in requires),
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    files[f"{info}/RECORD"] = "".join(f"{path},,\n" for path in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(directory / f"{name}-{version}-py3-none-any.whl", "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)


def pip(**args) -> str:
    args = {"virtualenv": "{{ d }}/venv", "virtualenv_command": f"{PYTHON} -m venv", "extra_args": LOCAL, **args}
    return "pip:\n" + "\n".join(f"  {k}: {json.dumps(v)}" for k, v in args.items())


def version(v: str) -> dict:
    return {f"{SITE}/tinypkg/__init__.py": f"VERSION = '{v}'\n"}


CASES = [
    Case("new-venv", pip(name=["tinypkg==1.0"]), then=version("1.0")),
    Case("satisfied", pip(name=["tinypkg>=1.0"]), changed=False, then=version("1.0")),
    Case("other-version", pip(name=["tinypkg"], version="2.0"), then=version("2.0")),
    Case("latest", pip(name=["tinypkg"], state="latest"), then=version("2.0")),
    # pip uninstall knows no --find-links: extra_args go to it too, as in Ansible.
    Case("absent", pip(name=["tinypkg", "otherpkg"], state="absent", extra_args=None),
         then={f"{SITE}/tinypkg": ABSENT}),
    Case("requirements", pip(requirements="req.txt", chdir="{{ d }}"), given={"req.txt": "otherpkg  # and its dep\n"},
         then={f"{SITE}/otherpkg/__init__.py": "VERSION = '0.1'\n", **version("2.0")}),
    Case("executable", "pip:\n  executable: '{{ d }}/venv/bin/pip'\n  name: [otherpkg]\n  extra_args: '" + LOCAL + "'",
         then={f"{SITE}/otherpkg/__init__.py": "VERSION = '0.1'\n"}),
    Case("no-such-version", pip(name=["tinypkg==9.9"], virtualenv="{{ d }}/../satisfied/venv"), fails="failed"),
]
#: The cases whose virtualenv exists before the table runs, with what it has installed.
PREPARED = {"satisfied": ["tinypkg==1.0"], "other-version": ["tinypkg==1.0"], "latest": ["tinypkg==1.0"],
            "absent": ["tinypkg==1.0"], "requirements": [], "executable": []}


def virtualenvs(root: Path, cases: list[str]) -> None:
    """A virtualenv with pip in each case's directory. ensurepip takes many
    seconds on a busy machine, so only the first runs it; the others are
    made without pip and given a copy of the first one's."""
    first = root / cases[0] / "venv"
    subprocess.run([PYTHON, "-m", "venv", str(first)], check=True)
    site = first / SITE.removeprefix("venv/")
    for case in cases[1:]:
        venv = root / case / "venv"
        subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True)
        for package in site.glob("pip*"):
            shutil.copytree(package, venv / SITE.removeprefix("venv/") / package.name)
        script = venv / "bin" / "pip"
        script.write_text(f"#!{venv}/bin/python\nimport sys\nfrom pip._internal.cli.main import main\nsys.exit(main())\n")
        script.chmod(0o755)


@pytest.fixture(scope="module")
def table(fleet, redis_server, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("table")
    root = workdir / "hosts" / "web1"
    wheels = root / "wheels"
    wheels.mkdir(parents=True)
    for name, v, requires in (("tinypkg", "1.0", ()), ("tinypkg", "2.0", ()), ("otherpkg", "0.1", ("tinypkg>=1.0",))):
        wheel(wheels, name, v, requires)
    virtualenvs(root, list(PREPARED))
    for case, specs in PREPARED.items():
        if specs:
            subprocess.run([str(root / case / "venv/bin/pip"), "install", "-q", "--no-index", f"--find-links={wheels}",
                            *specs], check=True)
    outcome = Table(redis_server.url, workdir, CASES)
    assert outcome.after_check == outcome.before, "--check changed the host"
    return outcome


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_pip(table, case):
    table.verify(case)


def test_result_fields(table):
    res = table.applied.results("other-version")[table.host]
    assert res["name"] == ["tinypkg"] and res["version"] == "2.0" and res["state"] == "present"
    assert res["virtualenv"].endswith("other-version/venv") and "install" in res["cmd"]
    assert table.checked.results("latest")[table.host]["msg"] == "would install tinypkg 2.0"


@pytest.mark.parametrize("args, name, needle", [
    ({"state": "present"}, "name", "one of the following is required"),
    ({"name": ["a", "b"], "version": "1"}, "version", "single package"),
    ({"name": ["a b c"]}, "name", "not a requirement specifier"),
    ({"name": ["a"], "virtualenv": "/v", "executable": "/p"}, "executable", "mutually exclusive"),
])
def test_bad_arguments_fail_on_the_controller(fleet, play, tmp_path, args, name, needle):
    bad_argument_fails(play, tmp_path, "pip", args, name, needle)
