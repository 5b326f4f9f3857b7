"""find: the files below some directories that pass Ansible's find filters."""

from __future__ import annotations

import fnmatch
import os
import re
import stat
import time
from dataclasses import dataclass

from ..host.fileinfo import ALGORITHMS, file_checksum, file_info
from ..host.fileops import mode_arg, resolve_mode
from ..module import Module, Plan, arg, regex

_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE_UNITS = {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
#: Which entries each file_type keeps.
_TYPES = {"file": stat.S_ISREG, "directory": stat.S_ISDIR, "link": stat.S_ISLNK, "any": lambda mode: True}


def _quantity(units: dict, what: str):
    def convert(value) -> int:
        found = re.fullmatch(r"(-?\d+)([a-z])?", str(value).strip().lower())
        if not found or (found[2] and found[2] not in units):
            raise ValueError(f"failed to process {what} '{value}' (a number with one of {', '.join(units)})")
        return int(found[1]) * units[found[2] or next(iter(units))]
    return convert


class Find(Module):
    """Find the files below some directories that pass every filter given.

    ``patterns`` (shell globs, or regular expressions matched at the start of
    the name with ``use_regex``) and ``excludes`` look at base names;
    ``file_type`` keeps files (the default), directories, links or any;
    ``age`` and ``size`` keep what is at least that old or large (negative:
    at most), ``contains`` the files with a line that starts with a match
    (anywhere in the file, with ``read_whole_file``), ``mode`` those with
    that permission. Names starting with a dot are left out unless
    ``hidden``; directories below are searched with ``recurse``, down to
    ``depth`` levels. Never changes anything.

    Returns ``files`` (each with the keys of stat's result, ``path``,
    ``mode``, ``size`` among them), ``matched``, ``examined`` (every entry
    looked at) and ``skipped_paths`` (a path that is not a directory).

    Example:
        - find:
            paths: /var/log/app
            patterns: "*.log,*.gz"
            age: 4w
            recurse: yes
          register: old_logs
        - file: path={{ item.path }} state=absent
          loop: "{{ old_logs.files }}"
    """

    name = "find"
    as_user = True

    @dataclass(frozen=True, kw_only=True)
    class Args:
        paths: list[str] = arg(aliases=("name", "path"), doc="Directories to search.")
        patterns: list[str] = arg([], aliases=("pattern",), doc="Base names to keep: globs, or regular "
                                                                "expressions with use_regex. Default: all.")
        excludes: list[str] | None = arg(None, aliases=("exclude",), doc="Base names to leave out "
                                                                         "(globs, or regular expressions).")
        use_regex: bool = arg(False, doc="patterns and excludes are regular expressions, not globs.")
        contains: str | None = arg(None, convert=regex, doc="Regular expression a line of a file must start "
                                                             "with (file_type file only).")
        read_whole_file: bool = arg(False, doc="Search contains anywhere in the whole file, not at line starts.")
        encoding: str | None = arg(None, doc="Encoding of the files contains reads (default UTF-8).")
        file_type: str = arg("file", choices=tuple(_TYPES), doc="What kind of entries to keep.")
        recurse: bool = arg(False, doc="Search the directories below too.")
        depth: int | None = arg(None, doc="How many levels to descend with recurse (default: all).")
        hidden: bool = arg(False, doc="Keep names that start with a dot.")
        follow: bool = arg(False, doc="Follow links to directories while recursing.")
        age: int | None = arg(None, convert=_quantity(_AGE_UNITS, "age"),
                              doc="At least this old (4w, 2d, 3h, 5m, 10s; negative: at most).")
        age_stamp: str = arg("mtime", choices=("atime", "ctime", "mtime"), doc="Which time age compares.")
        size: int | None = arg(None, convert=_quantity(_SIZE_UNITS, "size"),
                               doc="At least this large (10b, 4k, 2m, 1g, 1t; negative: at most); files only.")
        mode: str | None = arg(None, convert=mode_arg, doc="Permissions to keep (octal or symbolic).")
        exact_mode: bool = arg(True, doc="mode must be the exact permissions; with no, those bits at least.")
        get_checksum: bool = arg(False, doc="Return each file's checksum.")
        checksum_algorithm: str = arg("sha1", choices=ALGORITHMS, aliases=("checksum", "checksum_algo"),
                                      doc="Algorithm of the checksum.")
        limit: int | None = arg(None, doc="Stop after this many matches.")

    def plan(self) -> Plan:
        files, examined, skipped = [], 0, {}
        for top in self.args.paths:
            if not os.path.isdir(top):
                skipped[top] = f"'{top}' is not a directory"
                continue
            examined += self.search(os.path.normpath(top), files)
        msg = "Not all paths examined, check warnings for details" if skipped else "All paths examined"
        return Plan(reason=msg, data={"msg": msg, "files": files, "matched": len(files), "examined": examined,
                                      "skipped_paths": skipped})

    def search(self, top: str, files: list[dict]) -> int:
        """Add what passes below ``top`` to ``files``; return how many entries were looked at."""
        a = self.args
        examined = 0
        for root, dirs, names in os.walk(top, followlinks=a.follow):
            dirs.sort()
            examined += len(names) + len(dirs)
            for name in sorted(names) + dirs:
                path = os.path.join(root, name)
                level = path.count(os.sep) - top.rstrip(os.sep).count(os.sep)
                if a.depth and level > a.depth or (name.startswith(".") and not a.hidden):
                    continue
                if a.limit is not None and len(files) >= a.limit:
                    return examined
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if self.keeps(name, path, st):
                    info = file_info(path, st)
                    if a.get_checksum and stat.S_ISREG(st.st_mode):
                        info["checksum"] = file_checksum(path, a.checksum_algorithm)
                    files.append(info)
            if not a.recurse:
                break
        return examined

    def keeps(self, name: str, path: str, st: os.stat_result) -> bool:
        a = self.args
        if not _TYPES[a.file_type](st.st_mode) or not self.named(name):
            return False
        if a.age is not None:
            age = time.time() - getattr(st, f"st_{a.age_stamp}")
            if not (age >= a.age if a.age >= 0 else age <= -a.age):
                return False
        if a.size is not None and stat.S_ISREG(st.st_mode):
            if not (st.st_size >= a.size if a.size >= 0 else st.st_size <= -a.size):
                return False
        if a.mode is not None:
            wanted = resolve_mode(a.mode, 0, stat.S_ISDIR(st.st_mode))
            have = stat.S_IMODE(st.st_mode)
            if have != wanted if a.exact_mode else have & wanted != wanted:
                return False
        return a.contains is None or a.file_type != "file" or self.has_content(path)

    def named(self, name: str) -> bool:
        a = self.args
        if a.use_regex:
            def matches(p):
                return re.match(p, name)
        else:
            def matches(p):
                return fnmatch.fnmatch(name, p)
        if any(matches(p) for p in a.excludes or ()):
            return False
        return any(matches(p) for p in a.patterns or ((".*",) if a.use_regex else ("*",)))

    def has_content(self, path: str) -> bool:
        a = self.args
        try:
            with open(path, encoding=a.encoding or "utf-8", errors="surrogateescape") as fh:
                if a.read_whole_file:
                    return re.search(a.contains, fh.read()) is not None
                return any(re.match(a.contains, line) for line in fh)
        except OSError:
            return False
