"""What stat and find say about a path: Ansible's stat dictionary, once."""

from __future__ import annotations

import hashlib
import os
import stat

from .sysops import group_name, user_name

#: The checksums stat and find offer (checksum_algorithm).
ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")

#: The permission bits by the names Ansible's stat gives them.
_BITS = {"wusr": stat.S_IWUSR, "rusr": stat.S_IRUSR, "xusr": stat.S_IXUSR,
         "wgrp": stat.S_IWGRP, "rgrp": stat.S_IRGRP, "xgrp": stat.S_IXGRP,
         "woth": stat.S_IWOTH, "roth": stat.S_IROTH, "xoth": stat.S_IXOTH,
         "isuid": stat.S_ISUID, "isgid": stat.S_ISGID}


def file_info(path: str, st: os.stat_result) -> dict:
    """The keys stat and find both return for ``path`` (whose stat is ``st``):
    type flags, mode as an octal string ('0644'), ids and names, size, times."""
    mode = st.st_mode
    info = {
        "path": path,
        "mode": format(stat.S_IMODE(mode), "04o"),
        "isdir": stat.S_ISDIR(mode), "ischr": stat.S_ISCHR(mode), "isblk": stat.S_ISBLK(mode),
        "isreg": stat.S_ISREG(mode), "isfifo": stat.S_ISFIFO(mode), "islnk": stat.S_ISLNK(mode),
        "issock": stat.S_ISSOCK(mode),
        "uid": st.st_uid, "gid": st.st_gid, "pw_name": user_name(st.st_uid), "gr_name": group_name(st.st_gid),
        "size": st.st_size, "inode": st.st_ino, "dev": st.st_dev, "nlink": st.st_nlink,
        "atime": st.st_atime, "mtime": st.st_mtime, "ctime": st.st_ctime,
    }
    info.update({name: bool(mode & bit) for name, bit in _BITS.items()})
    return info


def file_checksum(path: str, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()
