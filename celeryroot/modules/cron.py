"""cron: one named job in a user's crontab or in a file of /etc/cron.d."""

from __future__ import annotations

import os
import pwd
import shutil
from dataclasses import dataclass

from ..host.fileops import content_change, new_content, read_bytes_or_none, write_file
from ..host.proc import run
from ..host.sysops import CommandChange, find_user
from ..module import ArgError, Created, Change, Module, ModuleFailure, Plan, arg

#: The comment above each managed job, as Ansible writes it: a crontab
#: that Ansible managed before stays as it is.
MARKER = "#Ansible: "
CRON_D = "/etc/cron.d"
FIELDS = ("minute", "hour", "day", "month", "weekday")
SPECIAL = ("annually", "daily", "hourly", "monthly", "reboot", "weekly", "yearly")


class Cron(Module):
    """Manage one named job in a user's crontab or in a file of /etc/cron.d.

    The job is found by its marker line ``#Ansible: NAME`` just above it,
    the way Ansible writes and finds it, so crontabs that Ansible managed
    stay ``ok``. A job line equal to the wanted one but without a marker
    gets the marker (the job is adopted, not duplicated). ``disabled: yes``
    keeps the job commented out. A user's crontab is read with
    ``crontab -u USER -l`` and installed with ``crontab -u USER -``; a
    ``cron_file`` (a name relative to /etc/cron.d, or a path) is written
    atomically, and removed when its last job goes.

    Example:
        - cron: name="rotate logs" minute=0 hour=3 job="/usr/local/bin/rotate >/dev/null"
        - cron:
            name: nightly backup
            special_time: daily
            job: /usr/local/bin/backup
            user: backup
            cron_file: backup
        - cron: name="rotate logs" state=absent
    """

    name = "cron"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        name: str = arg(doc="The job's name, on its '#Ansible: NAME' marker line.")
        job: str | None = arg(None, aliases=("value",), doc="The command (one line); required with state=present.")
        state: str = arg("present", choices=("present", "absent"), doc="Whether the job should be there.")
        user: str | None = arg(None, doc="Whose crontab (default: the worker's user); the job's user in a cron_file.")
        cron_file: str | None = arg(None, doc="A file of /etc/cron.d (a name there, or a path) instead of a crontab.")
        minute: str = arg("*", doc="Minute (0-59, *, */5, …).")
        hour: str = arg("*", doc="Hour (0-23, *, …).")
        day: str = arg("*", aliases=("dom",), doc="Day of the month (1-31, *, …).")
        month: str = arg("*", doc="Month (1-12 or JAN-DEC, *, …).")
        weekday: str = arg("*", aliases=("dow",), doc="Day of the week (0-6 or SUN-SAT, *, …).")
        special_time: str | None = arg(None, choices=SPECIAL, doc="@reboot, @daily, …, instead of the five fields.")
        disabled: bool = arg(False, doc="Keep the job commented out (with state=present).")

        def check(self) -> None:
            if self.state == "present" and self.job is None:
                raise ArgError("job", "'job' is required with state=present")
            if self.job is not None and "\n" in self.job:
                raise ArgError("job", "argument 'job': a job is one line")
            if self.special_time and any(getattr(self, f) != "*" for f in FIELDS):
                raise ArgError("special_time", "parameters are mutually exclusive: "
                                               "'special_time'|'minute,hour,day,month,weekday'")
            if self.cron_file and self.state == "present" and self.user is None:
                raise ArgError("user", f"'user' is required with cron_file ({self.cron_file}): give user= as well")

    def plan(self) -> Plan:
        a = self.args
        old = self.read()
        lines = old.splitlines() if old is not None else []
        lines, message = self.edit(lines)
        new = "\n".join(lines).rstrip("\r\n") + "\n" if lines else ""
        data = {"jobs": [line[len(MARKER):] for line in lines if line.startswith(MARKER)]}
        if new == (old or ""):
            return Plan(reason=message, data=data)
        return Plan([self.change(old, new)], data=data)

    # -- where the crontab is ---------------------------------------------

    @property
    def path(self) -> str | None:
        cron_file = self.args.cron_file
        return None if cron_file is None else os.path.join(CRON_D, cron_file)

    @property
    def user(self) -> str:
        return self.args.user or pwd.getpwuid(os.geteuid()).pw_name

    def read(self) -> str | None:
        """The crontab's text; None when there is none (or, in check mode,
        when an earlier task would install cron or create the user)."""
        if self.path:
            data = read_bytes_or_none(self.path)
            parent = os.path.dirname(self.path)
            if data is None and not (os.path.isdir(parent) or self.ctx.would_exist(Created.path(parent))):
                raise ModuleFailure(f"{parent} does not exist (is cron installed?)")
            return None if data is None else data.decode("utf-8", "surrogateescape")
        if find_user(self.user) is None:
            if self.ctx.would_exist(Created.user(self.user)):
                return None
            raise ModuleFailure(f"user '{self.user}' does not exist on this host")
        if shutil.which("crontab") is None:
            if self.ctx.would_exist(Created.package("cron")):
                return None
            raise ModuleFailure("there is no crontab command on this host (install the cron package)")
        done = run(["crontab", "-u", self.user, "-l"])
        if done.rc == 0:
            return done.stdout + "\n" if done.stdout else ""
        if "no crontab for" in done.stderr:
            return None
        raise ModuleFailure(f"crontab -u {self.user} -l failed: {done.stderr.strip()}", **done.data())

    def change(self, old: str | None, new: str) -> Change:
        if self.path is None:
            return CommandChange(f"install the crontab of {self.user}", before=old or "", after=new,
                                 path=f"crontab of {self.user}", argv=("crontab", "-u", self.user, "-"), stdin=new)
        if not new:
            return Change(f"remove {self.path}", before=old, after="", path=self.path)
        return content_change(self.path, None if old is None else old.encode("utf-8", "surrogateescape"),
                              new.encode("utf-8", "surrogateescape"))

    # -- the job ----------------------------------------------------------

    def job_line(self) -> str:
        a = self.args
        when = f"@{a.special_time}" if a.special_time else " ".join(getattr(a, f) for f in FIELDS)
        who = f" {a.user}" if self.path else ""
        return f"{'#' if a.disabled else ''}{when}{who} {a.job}"

    def edit(self, lines: list[str]) -> tuple[list[str], str]:
        a = self.args
        marker = MARKER + a.name
        at = next((i for i, line in enumerate(lines[:-1]) if line == marker), None)
        if a.state == "absent":
            if at is None:
                return lines, f"no job named '{a.name}'"
            return lines[:at] + lines[at + 2:], f"job '{a.name}' removed"
        line = self.job_line()
        if at is None:
            bare = next((i for i, text in enumerate(lines) if text == line), None)
            if bare is None:
                return lines + [marker, line], f"job '{a.name}' added"
            # The job is there without its marker (written by hand): adopt it.
            return lines[:bare] + [marker] + lines[bare:], f"job '{a.name}' marked"
        if lines[at + 1] == line:
            return lines, f"job '{a.name}' is as wanted"
        return lines[:at + 1] + [line] + lines[at + 2:], f"job '{a.name}' changed"

    def apply(self, plan: Plan) -> dict:
        if self.path is None:
            return {}
        data = new_content(plan.changes)
        if data is None:
            os.unlink(self.path)
            return {}
        return write_file(self.path, data)
