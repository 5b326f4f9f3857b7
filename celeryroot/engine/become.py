"""``become_user``: one module call run as a local user.

The worker runs as root and lives for weeks, so it never changes its own
user: the call runs in a forked child that becomes the user (the user's
groups, ``HOME``, ``USER``, ``LOGNAME``, umask 022, the home as its
working directory) before the module starts, and answers through a pipe.
Whatever the module does (a command, a file it writes) is then the user's
doing, as ``sudo -u`` would make it. The child runs the same call the
worker would (``timeout`` and check mode included) and ends with
``os._exit``: nothing of the worker's (its broker connections, its
``atexit``) runs twice. Only modules that can do their work as any user
take ``become_user`` (``Module.as_user``; lang/tasks.py refuses the others).

The worker's guard (its module policy, its audit log) stays with the
worker, around this call.
"""

from __future__ import annotations

import json
import os
import pwd

from ..host.proc import REAPER_PROCESS
from ..result import FAILED, result


def run_as(user: str, run) -> tuple[dict, set[str]]:
    """``run()`` (a module call: its result and what it predicts) as ``user``."""
    try:
        account = pwd.getpwnam(user)
    except KeyError:
        return result(FAILED, f"become_user '{user}': there is no such user on this host"), set()
    if os.geteuid() != 0:
        return result(FAILED, f"become_user '{user}': the worker cannot switch users: it does not run as root"), set()
    REAPER_PROCESS.share()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(reader)
        REAPER_PROCESS.adopt()
        try:
            _become(account)
            res, predicted = run()
            answer = {"result": res, "predicted": sorted(predicted)}
        except BaseException as exc:  # noqa: B036 - whatever happens, the worker gets an answer
            answer = {"result": result(FAILED, f"become_user '{user}': {exc}"), "predicted": []}
        try:
            with os.fdopen(writer, "w") as pipe:
                json.dump(answer, pipe, default=str)
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    try:
        answer = json.loads(text)
        return answer["result"], set(answer["predicted"])
    except (ValueError, KeyError, TypeError):
        return result(FAILED, f"become_user '{user}': the call as the user ended without an answer"), set()


def _become(account: pwd.struct_passwd) -> None:
    """This (forked) process becomes ``account``: groups, then group, then user."""
    os.setgroups(os.getgrouplist(account.pw_name, account.pw_gid))
    os.setgid(account.pw_gid)
    os.setuid(account.pw_uid)
    os.umask(0o022)
    home = account.pw_dir if os.path.isdir(account.pw_dir) else "/"
    os.chdir(home)
    os.environ.update(HOME=account.pw_dir, USER=account.pw_name, LOGNAME=account.pw_name,
                      SHELL=account.pw_shell or "/bin/sh")
