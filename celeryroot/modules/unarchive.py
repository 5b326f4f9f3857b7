"""unarchive: a tar, tar.gz/bz2/xz or zip archive unpacked into a directory, member by member."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import io
import os
import stat
import tarfile
import zipfile
from dataclasses import dataclass, replace

from ..host.fileops import AttributeArgs, apply_attributes, install, lstat_or_none, resolve_mode, temp_beside
from ..host.sysops import group_id, user_id
from ..lang.files import find_source
from ..module import ArgError, Change, Created, Module, ModuleFailure, Plan, arg

#: An archive from the controller travels inside the task's message.
MAX_SOURCE = 4 << 20
_CHUNK = 1 << 16


def _extra_opts(value) -> tuple[str, ...]:
    """Only ``--strip-components=N`` (or the two words) is understood."""
    words = [str(v) for v in (value if isinstance(value, (list, tuple)) else str(value).split())]
    joined = []
    for word in words:
        if joined and joined[-1] == "--strip-components":
            joined[-1] += f"={word}"
        else:
            joined.append(word)
    for word in joined:
        name, _, number = word.partition("=")
        if name != "--strip-components" or not number.isdigit():
            raise ValueError(f"only --strip-components=N is supported, got '{word}'")
    return tuple(joined)


@dataclass(frozen=True)
class Entry:
    """One member of an archive, as it will land under dest (``name``)."""

    name: str
    member: str
    kind: str  # "file", "dir" or "link"
    mode: int
    linkname: str = ""


@dataclass(frozen=True)
class MemberChange(Change):
    """``entry`` is extracted to ``path`` (``content``), or only its attributes set."""

    entry: Entry | None = None
    content: bool = True
    mode: int = 0


#: Ansible's names for the handler that read an archive, by tarfile's decompressor.
_TAR_HANDLERS = {"gzip": "TgzArchive", "bz2": "TarBzipArchive", "lzma": "TarXzArchive"}


class Archive:
    """The members of a tar or zip archive, and their bytes (a context
    manager: the archive's file is closed on the way out)."""

    def __init__(self, fileobj):
        self.fileobj = fileobj
        if zipfile.is_zipfile(fileobj):
            self.zip, self.tar, self.handler = zipfile.ZipFile(fileobj), None, "ZipArchive"
        else:
            fileobj.seek(0)
            try:
                self.tar, self.zip = tarfile.open(fileobj=fileobj), None
            except tarfile.TarError:
                fileobj.close()
                raise ModuleFailure("Failed to find handler to unarchive: not a tar or zip archive") from None
            self.handler = _TAR_HANDLERS.get(type(self.tar.fileobj).__module__, "TarArchive")

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc) -> None:
        (self.zip or self.tar).close()
        self.fileobj.close()

    def members(self):
        """(member name, kind, mode, link target) of each member."""
        if self.zip is not None:
            for info in self.zip.infolist():
                mode = (info.external_attr >> 16) & 0o7777
                unix = info.external_attr >> 16
                if stat.S_ISLNK(unix):
                    yield info.filename, "link", 0o777, self.zip.read(info).decode()
                elif info.is_dir():
                    yield info.filename, "dir", mode or 0o755, ""
                else:
                    yield info.filename, "file", mode or 0o644, ""
            return
        for member in self.tar.getmembers():
            kind = "dir" if member.isdir() else "link" if member.issym() else "file" if member.isreg() or \
                member.islnk() else None
            if kind is None:
                raise ModuleFailure(f"refusing to extract {member.name}: devices and FIFOs are not supported")
            yield member.name, kind, member.mode & 0o7777, member.linkname if kind == "link" else ""

    def open(self, member: str):
        return self.zip.open(member) if self.zip is not None else self.tar.extractfile(member)


class Unarchive(Module):
    """Unpack a tar (plain, gzip, bzip2 or xz) or zip archive into an
    existing directory.

    ``src`` is a file on the controller, looked up in ``files/`` as copy's
    is, and sent inside the task's message (at most 4 MiB); with
    ``remote_src: yes`` it is a file on the host (any size; a URL is not
    supported, download it with get_url). Python's tarfile and zipfile read
    it; no ``tar`` or ``unzip`` runs. A member whose path, or link target,
    would land outside ``dest`` is refused, and so are devices and FIFOs.

    Each member is compared with what is on disk (a file's bytes, a link's
    target, the mode; owner and group when given) and only those that
    differ are written, each file atomically; so a second run changes
    nothing and ``--check`` lists what would be written. Modification times
    are neither compared nor restored. Files get the archive's mode (zip
    entries without one 0644, directories 0755) or ``mode``, and the
    worker's owner unless ``owner``/``group`` say. ``creates``: skip when
    that path exists. ``exclude``: glob patterns of members (and
    directories) to leave out. ``extra_opts`` understands only
    ``--strip-components=N``. ``list_files`` returns the members in ``files``.

    Example:
        - unarchive:
            src: site.tar.gz
            dest: /srv/www
            extra_opts: [--strip-components=1]
        - unarchive:
            src: /tmp/tool.zip
            remote_src: yes
            dest: /opt/tool
            creates: /opt/tool/bin/tool
    """

    name = "unarchive"

    @dataclass(frozen=True, kw_only=True)
    class Args(AttributeArgs):
        src: str = arg(host_path=False, doc="The archive: on the controller (in files/ or beside the playbook), "
                                           "or on the host with remote_src.")
        dest: str = arg(host_path=True, doc="Existing directory to unpack into.")
        remote_src: bool = arg(False, doc="src is a path on the host, not on the controller.")
        creates: str | None = arg(None, host_path=True, doc="Skip the task when this path exists.")
        list_files: bool = arg(False, doc="Return the archive's members in 'files'.")
        exclude: list[str] = arg([], doc="Glob patterns of members to leave out.")
        extra_opts: list[str] = arg([], convert=_extra_opts, doc="Only --strip-components=N.")
        _data: str | None = arg(None, doc="Set by the controller: the archive, base64-encoded.")

    @classmethod
    def on_controller_prepare(cls, args: Args, variables: dict, search: tuple[str, ...]) -> Args:
        if args.remote_src or args._data is not None:
            return args
        path = find_source(os.path.expanduser(args.src), search, "files", "src")
        if os.path.getsize(path) > MAX_SOURCE:
            raise ArgError("src", f"argument 'src': {path} is larger than {MAX_SOURCE >> 20} MiB; it would travel in "
                                  "the task's message (copy it with get_url and use remote_src)")
        with open(path, "rb") as fh:
            return replace(args, _data=base64.b64encode(fh.read()).decode())

    def archive(self) -> Archive:
        a = self.args
        if a._data is not None:
            return Archive(io.BytesIO(base64.b64decode(a._data)))
        src = os.path.expanduser(a.src)
        if not os.path.isfile(src):
            raise ModuleFailure(f"Source '{src}' does not exist", src=src)
        return Archive(open(src, "rb"))

    def plan(self) -> Plan:
        a = self.args
        data = {"dest": a.dest, "src": a.src}
        if a.creates and (os.path.lexists(a.creates) or self.ctx.would_exist(Created.path(a.creates))):
            return Plan(reason=f"skipped, since {a.creates} exists", data=data)
        if not (os.path.isdir(a.dest) or self.ctx.would_exist(Created.path(a.dest))):
            raise ModuleFailure(f"dest '{a.dest}' must be an existing dir", **data)
        with self.archive() as archive:
            entries = self.entries(archive)
            data.update(handler=archive.handler, **({"files": [e.member for e in entries]} if a.list_files else {}))
            changes = [c for c in (self.change(e, archive) for e in entries) if c]
        return Plan(changes, reason="the archive's members are in place", data=data)

    def entries(self, archive: Archive) -> list[Entry]:
        a = self.args
        strip = next((int(o.partition("=")[2]) for o in a.extra_opts), 0)
        out = []
        for member, kind, mode, linkname in archive.members():
            parts = [p for p in member.split("/") if p not in ("", ".")]
            if any(fnmatch.fnmatch("/".join(parts[:n]), pattern) for n in range(1, len(parts) + 1)
                   for pattern in a.exclude):
                continue
            parts = parts[strip:]
            if not parts:
                continue
            name = os.path.normpath("/".join(parts))
            if member.startswith("/") or name.startswith(".."):
                raise ModuleFailure(f"refusing to extract {member}: it would land outside {a.dest}")
            if kind == "link":
                landing = os.path.normpath(os.path.join(os.path.dirname(name), linkname))
                if linkname.startswith("/") or landing.startswith(".."):
                    raise ModuleFailure(f"refusing to extract {member}: its link target {linkname} is outside "
                                        f"{a.dest}")
            out.append(Entry(name, member, kind, mode, linkname))
        return out

    def change(self, entry: Entry, archive: Archive) -> MemberChange | None:
        """What extracting ``entry`` would change on disk, or None."""
        a = self.args
        target = os.path.join(a.dest, entry.name)
        root = os.path.realpath(a.dest)
        if os.path.commonpath([root, os.path.realpath(os.path.dirname(target))]) != root:
            raise ModuleFailure(f"refusing to extract {entry.member}: a link on disk leads it outside {a.dest}")
        st = lstat_or_none(target)
        mode = entry.mode if a.mode in (None, "preserve") else resolve_mode(a.mode, entry.mode, entry.kind == "dir")
        made = frozenset() if st is not None else frozenset({Created.path(target)})
        if st is None:
            return MemberChange(f"extract {entry.name}", path=target, creates=made, entry=entry, mode=mode)
        if entry.kind == "dir" and not stat.S_ISDIR(st.st_mode):
            raise ModuleFailure(f"cannot extract directory {entry.name}: something else is at {target}")
        if entry.kind == "link":
            same = stat.S_ISLNK(st.st_mode) and os.readlink(target) == entry.linkname
            return None if same else MemberChange(f"link {entry.name}", path=target, entry=entry, mode=mode)
        if entry.kind == "file" and not (stat.S_ISREG(st.st_mode) and self.same_bytes(target, entry, archive)):
            return MemberChange(f"update {entry.name}", path=target, entry=entry, mode=mode)
        if stat.S_IMODE(st.st_mode) != mode or not self.same_owner(st):
            return MemberChange(f"attributes of {entry.name}", path=target, entry=entry, content=False, mode=mode)
        return None

    def same_owner(self, st: os.stat_result) -> bool:
        a = self.args
        return (a.owner is None or user_id(a.owner) == st.st_uid) and (a.group is None or group_id(a.group) == st.st_gid)

    @staticmethod
    def same_bytes(path: str, entry: Entry, archive: Archive) -> bool:
        digests = []
        for fh in (open(path, "rb"), archive.open(entry.member)):
            h = hashlib.sha1()
            with fh:
                for chunk in iter(lambda: fh.read(_CHUNK), b""):
                    h.update(chunk)
            digests.append(h.digest())
        return digests[0] == digests[1]

    def apply(self, plan: Plan) -> dict:
        # Directories first, shallow before deep, so files find their parents.
        ordered = sorted(plan.changes, key=lambda c: (c.entry.kind != "dir", c.path.count("/")))
        with self.archive() as archive:
            for change in ordered:
                self.extract(change, archive)
        return {}

    def extract(self, change: MemberChange, archive: Archive) -> None:
        a = self.args
        entry, target, mode = change.entry, change.path, format(change.mode, "04o")
        if change.content:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if entry.kind == "dir":
                os.makedirs(target, exist_ok=True)
            elif entry.kind == "link":
                # A new link beside the old path, renamed over it: never a moment without one.
                fd, tmp = temp_beside(target)
                os.close(fd)
                os.unlink(tmp)
                os.symlink(entry.linkname, tmp)
                os.rename(tmp, target)
                return
            else:
                fd, tmp = temp_beside(target)
                with os.fdopen(fd, "wb") as out, archive.open(entry.member) as member:
                    for chunk in iter(lambda: member.read(_CHUNK), b""):
                        out.write(chunk)
                install(tmp, target, mode=mode, owner=a.owner, group=a.group)
                return
        apply_attributes(target, mode=mode, owner=a.owner, group=a.group)
