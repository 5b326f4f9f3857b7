"""template: a Jinja2 file rendered on the controller, written like copy."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, replace
from datetime import datetime

from ..host.fileops import checksum
from ..host.sysops import user_name
from ..module import ArgError, ModuleFailure, arg
from ..lang.files import find_source
from ..lang.source import InputError, read_text
from ..lang.templating import ENV, TemplateFailure
from .copy import Copy, WriteArgs, preserved


class Template(Copy):
    """Render a Jinja2 template with the host's variables and write it to the host.

    ``src`` is looked up in ``templates/`` beside the playbook (or the
    role), then beside it. It is rendered on the controller with the host's
    variables, strictly: an undefined variable is an error that names it and
    the template's file and line, and the run stops before anything is
    written. ``{% include %}`` finds files the same way. Besides the host's
    variables a template sees ``ansible_managed``, ``template_path``,
    ``template_fullpath``, ``template_destpath``, ``template_host``,
    ``template_uid`` and ``template_run_date``, as in Ansible.

    The host receives the rendered text and writes it exactly as copy does:
    checksum comparison, atomic replace, ``backup``, ``validate``, and
    owner/group/mode set before the rename; ``--diff`` shows a unified diff.

    Example:
        - template:
            src: motd.j2
            dest: /etc/motd
            mode: "0644"
        - template:
            src: sudoers.j2
            dest: /etc/sudoers.d/ops
            validate: visudo -cf %s
            backup: yes
    """

    name = "template"

    @dataclass(frozen=True, kw_only=True)
    class Args(WriteArgs):
        src: str = arg(doc="Jinja2 template on the controller (in templates/ or beside the playbook).")
        _content: str | None = arg(None, doc="Set by the controller: the rendered template.")
        _checksum: str | None = arg(None, doc="Set by the controller: SHA-1 of the rendered template.")

    @classmethod
    def on_controller_prepare(cls, args: Args, variables: dict, search: tuple[str, ...]) -> Args:
        path = find_source(args.src, search, "templates", "src")
        try:
            read_text(path)  # UTF-8 without NUL bytes, at most 4 MiB: the limits of every input file
        except InputError as exc:
            raise ArgError("src", f"argument 'src': {exc}") from None
        text = ENV.render_file(path, _template_vars(variables, path, args.dest), search)
        return replace(args, _content=text, _checksum=checksum(text.encode()), mode=preserved(args.mode, path))

    def payload(self) -> bytes:
        if self.args._content is None:
            raise ModuleFailure(f"template {self.args.src} was not rendered on the controller")
        return self.args._content.encode()

    def expected_checksum(self) -> str | None:
        return self.args._checksum

    def basename(self) -> str | None:
        return os.path.basename(self.args.src)


def _template_vars(variables: dict, path: str, dest: str) -> dict:
    uid = user_name(os.stat(path).st_uid)
    return {**variables, "template_path": path, "template_fullpath": os.path.abspath(path),
            "template_destpath": dest, "template_host": socket.gethostname(), "template_uid": uid,
            "template_run_date": datetime.now()}
