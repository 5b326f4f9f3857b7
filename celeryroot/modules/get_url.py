"""get_url: a file downloaded over HTTP(S) or FTP by the host itself, renamed into place."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import ssl
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from ..host.fileops import AttributeArgs, attribute_changes, install, set_attributes, stat_or_none, temp_beside
from ..module import ArgError, Change, Created, Module, ModuleFailure, Plan, arg

_CHUNK = 1 << 16


def _checksum_arg(value) -> str:
    """``ALGORITHM:HEX``; an URL in place of the hex is not supported."""
    text = str(value).strip()
    algorithm, sep, digest = text.partition(":")
    if not sep or algorithm.lower() not in hashlib.algorithms_available:
        raise ValueError(f"expected 'algorithm:hexdigest' such as 'sha256:…', got '{text}'")
    try:
        int(digest, 16)
    except ValueError:
        raise ValueError(f"the digest must be hexadecimal (a checksum file's URL is not supported), got '{digest}'") \
            from None
    return f"{algorithm.lower()}:{digest.lower()}"


def file_digest(path: str, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class Download(Change):
    """The downloaded file ``tmp`` (beside ``path``) takes the place of ``path``."""

    tmp: str = ""


class GetUrl(Module):
    """Download a file from an HTTP, HTTPS or FTP URL to the host.

    The host downloads it itself (urllib), into a temp file in ``dest``'s
    directory, and renames it over ``dest`` only when its content differs,
    so a reader never sees half a file. When ``dest`` exists: with a
    ``checksum`` (``sha256:…``) that it matches, nothing is downloaded;
    otherwise, with ``force: no`` (the default) it is left alone, and with
    ``force: yes`` the file is downloaded and replaces it if different. A
    downloaded file that does not match ``checksum`` fails and is removed.
    A ``dest`` that is a directory receives the URL's base name.

    ``--check`` downloads to the system's temp directory to compare, and
    removes it; ``dest``'s directory is not touched. ``url_username`` and
    ``url_password`` are sent as HTTP basic authentication with the first
    request; ``headers`` are sent as given. ``mode``, ``owner``, ``group``
    work as in copy. There is no ``--diff`` (as in Ansible).

    Example:
        - get_url:
            url: https://example.com/tool-1.2.tar.gz
            dest: /opt/tool-1.2.tar.gz
            checksum: "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
            mode: "0644"
    """

    name = "get_url"

    @dataclass(frozen=True, kw_only=True)
    class Args(AttributeArgs):
        url: str = arg(doc="HTTP, HTTPS or FTP URL to download.")
        dest: str = arg(host_path=True, doc="File (or existing directory) on the host to download to.")
        checksum: str | None = arg(None, convert=_checksum_arg, doc="'algorithm:hexdigest' the file must have; "
                                                                    "a dest that has it is not downloaded again.")
        force: bool = arg(False, aliases=("thirsty",), doc="Download even when dest exists, and replace it if it "
                                                          "differs.")
        headers: dict = arg({}, doc="HTTP headers to send, as a mapping.")
        timeout: int = arg(10, doc="Seconds to wait for the server.")
        url_username: str | None = arg(None, aliases=("username",), doc="User for HTTP basic authentication.")
        url_password: str | None = arg(None, aliases=("password",), doc="Password for HTTP basic authentication.")
        validate_certs: bool = arg(True, doc="Verify the server's TLS certificate (no: accept any).")
        http_agent: str = arg("ansible-httpget", doc="User-Agent header.")

        def check(self) -> None:
            scheme = urllib.parse.urlsplit(self.url).scheme
            if scheme not in ("http", "https", "ftp"):
                raise ArgError("url", f"argument 'url': unsupported scheme '{scheme}' (http, https or ftp)")
            if self.url_password is not None and self.url_username is None:
                raise ArgError("url_password", "parameters are required together: 'url_username', 'url_password'")

    def destination(self) -> str:
        dest = self.args.dest
        if os.path.isdir(dest):
            name = os.path.basename(urllib.parse.unquote(urllib.parse.urlsplit(self.args.url).path))
            if not name:
                raise ModuleFailure(f"cannot name a file in {dest}: the URL has no file name", url=self.args.url)
            return os.path.join(dest, name)
        return dest

    def plan(self) -> Plan:
        a = self.args
        dest = self.destination()
        parent = os.path.dirname(os.path.abspath(dest))
        if not (os.path.isdir(parent) or self.ctx.would_exist(Created.path(parent))):
            raise ModuleFailure(f"Destination {parent} does not exist", dest=dest, url=a.url)
        st = stat_or_none(dest)
        data = {"dest": dest, "url": a.url}
        attributes = attribute_changes(dest, st, mode=a.mode, owner=a.owner, group=a.group,
                                       would_exist=self.ctx.would_exist)
        if st is not None:
            algorithm, _, wanted = (a.checksum or "").partition(":")
            if a.checksum and file_digest(dest, algorithm) == wanted:
                return Plan(attributes, reason="file already exists and has the checksum", data=data)
            if not a.force and not a.checksum:
                return Plan(attributes, reason="file already exists", data=data)
        tmp, data = self.download(dest, data)
        if st is not None and data["checksum_src"] == data["checksum_dest"]:
            os.unlink(tmp)
            return Plan(attributes, reason=f"OK ({data['size']} bytes)", data=data)
        if self.ctx.check:
            os.unlink(tmp)
            tmp = ""
        made = frozenset() if st is not None else frozenset({Created.path(dest)})
        change = Download(f"download {a.url} to {dest} ({data['size']} bytes)", path=dest, creates=made, tmp=tmp)
        return Plan([change] + attributes, data={**data, "msg": f"OK ({data['size']} bytes)"})

    def download(self, dest: str, data: dict) -> tuple[str, dict]:
        """Fetch the URL into a temp file (beside ``dest``; in check mode in
        the system's temp directory); return its path and what is known of it."""
        a = self.args
        fd, tmp = tempfile.mkstemp(prefix=".get_url.") if self.ctx.check else temp_beside(dest)
        started = time.monotonic()
        try:
            with os.fdopen(fd, "wb") as out:
                with urllib.request.urlopen(self.request(), timeout=a.timeout, context=self.tls()) as response:
                    status = getattr(response, "status", None)
                    shutil.copyfileobj(response, out, _CHUNK)
            data = {**data, "status_code": status, "elapsed": round(time.monotonic() - started, 3),
                    "size": os.path.getsize(tmp), "checksum_src": file_digest(tmp, "sha1"),
                    "checksum_dest": file_digest(dest, "sha1") if os.path.isfile(dest) else None}
            if a.checksum:
                algorithm, _, wanted = a.checksum.partition(":")
                got = file_digest(tmp, algorithm)
                if got != wanted:
                    raise ModuleFailure(f"The checksum for {dest} did not match {wanted}; it was {got}.", **data)
        except urllib.error.HTTPError as exc:
            os.unlink(tmp)
            raise ModuleFailure(f"Request failed: {exc}", status_code=exc.code, response=str(exc), **data) from None
        except (urllib.error.URLError, OSError) as exc:
            os.unlink(tmp)
            raise ModuleFailure(f"Request failed: {exc}", status_code=-1, **data) from None
        except BaseException:
            os.unlink(tmp)
            raise
        return tmp, data

    def request(self) -> urllib.request.Request:
        a = self.args
        headers = {"User-Agent": a.http_agent, **{str(k): str(v) for k, v in a.headers.items()}}
        if a.url_username is not None:
            token = base64.b64encode(f"{a.url_username}:{a.url_password or ''}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        return urllib.request.Request(a.url, headers=headers)

    def tls(self) -> ssl.SSLContext | None:
        if not self.args.url.startswith("https:"):
            return None
        return ssl.create_default_context() if self.args.validate_certs else ssl._create_unverified_context()

    def apply(self, plan: Plan) -> dict:
        a = self.args
        download = next((c for c in plan.changes if isinstance(c, Download)), None)
        if download is None:
            set_attributes(plan.changes)
        else:
            install(download.tmp, download.path, mode=a.mode, owner=a.owner, group=a.group)
        return {}
