"""Filters of paths (this machine's and Windows'), URLs and times.

They run where templates render, the controller: ``realpath``,
``expanduser`` and ``fileglob`` see the controller's files, as in Ansible.
"""

from __future__ import annotations

import datetime
import glob
import ntpath
import os.path
import time
from urllib.parse import unquote_plus, urlsplit as _urlsplit

from jinja2.exceptions import FilterArgumentError

from .impure import impure


def splitext(path) -> list:
    return list(os.path.splitext(path))


def path_join(parts):
    """``['/etc', 'ssh', 'sshd_config'] | path_join``; a string is one path already."""
    if isinstance(parts, str):
        return parts
    if not isinstance(parts, (list, tuple)):
        raise FilterArgumentError(f"path_join expects a string or a list, got {type(parts).__name__}")
    return os.path.join(*parts)


def relpath(path, start=os.curdir):
    return os.path.relpath(path, start)


def fileglob(pattern) -> list:
    return [path for path in glob.glob(pattern) if os.path.isfile(path)]


URL_PARTS = ("fragment", "hostname", "netloc", "password", "path", "port", "query", "scheme", "username")


def urlsplit(url, query=""):
    """The parts of a URL as a mapping, or the one part named by ``query``."""
    split = _urlsplit(url)
    parts = {name: getattr(split, name) for name in URL_PARTS}
    if not query:
        return parts
    if query not in parts:
        raise FilterArgumentError(f"urlsplit: unknown URL component {query!r}")
    return parts[query]


def strftime(fmt, second=None, utc=False):
    when = time.time() if second is None else float(second)
    return time.strftime(fmt, time.gmtime(when) if utc else time.localtime(when))


def to_datetime(text, format="%Y-%m-%d %H:%M:%S"):
    return datetime.datetime.strptime(str(text), format)


FILTERS = {
    "basename": os.path.basename, "dirname": os.path.dirname, "normpath": os.path.normpath,
    "commonpath": os.path.commonpath, "splitext": splitext, "path_join": path_join,
    "win_basename": ntpath.basename, "win_dirname": ntpath.dirname,
    "win_splitdrive": lambda p: list(ntpath.splitdrive(p)),
    "urlsplit": urlsplit, "urldecode": unquote_plus, "to_datetime": to_datetime,
    # what the machine says now: its files, its environment, its clock
    "expanduser": impure(os.path.expanduser), "expandvars": impure(os.path.expandvars),
    "realpath": impure(os.path.realpath), "relpath": impure(relpath), "fileglob": impure(fileglob),
    "strftime": impure(strftime),
}
