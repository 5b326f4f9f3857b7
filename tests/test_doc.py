"""celeryroot-doc: module documentation from the class docstring and the Args spec."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT, write

BUILTINS = ("apt", "apt_key", "apt_repository", "blockinfile", "command", "copy", "cron", "deb822_repository", "debug",
            "fetch", "file", "find", "get_url", "getent", "hostname", "ini_file", "lineinfile", "package",
            "package_facts", "ping", "pip", "replace", "service_facts", "shell", "slurp", "stat", "sysctl", "template",
            "unarchive", "wait_for")


def doc(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "celeryroot.cli.doc", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=30)


def test_list_names_every_module_with_its_summary(tmp_path):
    write(tmp_path / "site/hello.py", '''
from dataclasses import dataclass
from celeryroot.module import Module, Plan, arg

class Hello(Module):
    """Say hello from a site module.

    Example:
        - hello: who=world
    """
    name = "hello"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        who: str = arg(doc="Whom to greet.")

    def plan(self):
        return Plan(reason=f"hello {self.args.who}")
''')
    out = doc("--list", "-M", str(tmp_path / "site"))
    assert out.returncode == 0, out.stderr
    listed = dict(line.split(None, 1) for line in out.stdout.splitlines())
    for name in BUILTINS:
        assert name in listed
    assert listed["copy"] == "Copy content from the controller into a file on the host, atomically."
    assert listed["stamp"].startswith("Write a one-line"), "the project's modules/ directory is listed"
    assert listed["hello"] == "Say hello from a site module."
    assert listed["systemd_service"] == "(another name of systemd)"


@pytest.mark.parametrize("module", BUILTINS)
def test_every_builtin_documents_itself(module):
    out = doc(module)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"> {module.upper()} ")
    assert "OPTIONS (= is mandatory):" in out.stdout and "EXAMPLES:" in out.stdout
    assert f"  - {module}" in out.stdout.split("EXAMPLES:")[1] or f"{module}:" in out.stdout.split("EXAMPLES:")[1]
    assert "(undocumented)" not in out.stdout


def test_options_show_doc_type_default_choices_and_aliases():
    text = doc("lineinfile").stdout
    block = text.split("\n- regexp\n")[1].split("\n\n")[0]
    assert "regular expression" in block and "aliases: regex" in block
    assert "default: null" in block and "type: str" in block
    state = text.split("\n- state\n")[1].split("\n\n")[0]
    assert "choices: [present, absent]" in state and "default: present" in state
    assert "\n= path\n" in text, "a required option is marked with ="
    assert "_content" not in doc("template").stdout, "controller-filled arguments are not documented"
    assert "type: list of str" in doc("command").stdout


def test_unknown_module_is_an_error():
    out = doc("no_such_module")
    assert out.returncode == 1 and "no module named 'no_such_module'" in out.stderr


def test_starts_fast_without_celery():
    code = ("import sys; from celeryroot.cli.doc import main; main(['--list']); "
            "print('celery' in sys.modules, file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert out.stderr.strip() == "False", out.stderr
