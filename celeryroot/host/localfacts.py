"""Local facts: what the host's own ``*.fact`` files say (``ansible_local``).

As Ansible's ``fact_path`` (default ``/etc/ansible/facts.d``): each file
``NAME.fact`` gives ``ansible_local.NAME``. An executable one is run and its
output read; the text is JSON, else INI (sections of ``key=value``). A file
that cannot be read or parsed gives the error text in its place, as Ansible
does, instead of failing the gathering.
"""

from __future__ import annotations

import configparser
import json
import os
import subprocess
from pathlib import Path

FACT_PATH = "/etc/ansible/facts.d"
#: Commands get a plain environment: a fact script's output must not depend on the worker's.
ENV = {"LC_ALL": "C", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}


def local_facts(fact_path: str = FACT_PATH, timeout: float = 10) -> dict:
    folder = Path(os.path.expanduser(fact_path))
    if not folder.is_dir():
        return {}
    return {path.stem: _one(path, timeout) for path in sorted(folder.glob("*.fact")) if path.is_file()}


def _one(path: Path, timeout: float):
    try:
        if os.access(path, os.X_OK):
            text = subprocess.run([str(path)], capture_output=True, text=True, timeout=timeout, env=ENV,
                                  cwd="/", check=True).stdout
        else:
            text = path.read_text()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"error loading fact - {exc}"
    try:
        return json.loads(text)
    except ValueError:
        pass
    parser = configparser.ConfigParser()
    try:
        parser.read_string(text)
    except configparser.Error:
        return "error loading fact - output of running it is neither JSON nor INI"
    return {section: dict(parser.items(section)) for section in parser.sections()}
