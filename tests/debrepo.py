"""A tiny local apt repository for the apt tests, built from nothing.

Packages (all ``Architecture: all``, names prefixed ``crtest-`` so a test
run never touches a real package):

- ``crtest-hello`` 1.0 and 2.0, with a conffile ``/etc/crtest-hello.conf``
  (so ``remove`` leaves ``config-files`` until ``purge``);
- ``crtest-app`` 1.0, which depends on ``crtest-lib`` 1.0;
- ``crtest-hello`` 3.0, built by `Repo.publish` when a test wants a
  newer version to appear in the repository (upgrade, update_cache);
- ``crtest-daemon`` 1.0: the SysV test daemon (tests/sysvdaemon) with its
  init script, for a play that installs a package and then starts its
  service;
- ``crtest-tinypkg`` 1.0, which ships a directory of its own,
  ``/etc/crtest-tinypkg/`` (as haproxy ships ``/etc/haproxy``), for a
  play that installs it and then writes into it.

`Repo.build` publishes them as ``deb [trusted=yes] file:DIR ./`` and writes
an APT_CONFIG file that points apt at that source only, with lists of its
own, so nothing is fetched from the network and the host's own lists are
never read or changed.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import sysvdaemon

#: apt refuses a source whose Label changes between updates.
LABEL = "celeryroot-test"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    depends: str = ""
    files: tuple[tuple[str, str, int], ...] = ()  # (path, content, mode)
    conffiles: tuple[str, ...] = ()


def _daemon_package(port: int) -> Package:
    daemon = sysvdaemon.DAEMON.read_text()
    return Package("crtest-daemon", "1.0", depends="python3", files=(
        ("etc/init.d/crtest-daemon", sysvdaemon.init_script("crtest-daemon"), 0o755),
        ("etc/default/crtest-daemon", f"PORT={port}\nDAEMON=/usr/lib/crtest-daemon/crtestd.py\n", 0o644),
        ("usr/lib/crtest-daemon/crtestd.py", daemon, 0o755),
    ), conffiles=("/etc/init.d/crtest-daemon", "/etc/default/crtest-daemon"))


def hello(version: str) -> Package:
    return Package("crtest-hello", version, files=(("etc/crtest-hello.conf", f"version={version}\n", 0o644),
                                                   ("usr/share/crtest-hello/version", f"{version}\n", 0o644)),
                   conffiles=("/etc/crtest-hello.conf",))


def packages(daemon_port: int) -> list[Package]:
    return [
        hello("1.0"), hello("2.0"),
        Package("crtest-lib", "1.0", files=(("usr/share/crtest-lib/lib", "lib\n", 0o644),)),
        Package("crtest-app", "1.0", depends="crtest-lib (>= 1.0)",
                files=(("usr/share/crtest-app/app", "app\n", 0o644),)),
        _daemon_package(daemon_port),
        Package("crtest-tinypkg", "1.0", files=(("etc/crtest-tinypkg/defaults", "size=tiny\n", 0o644),)),
    ]


def build_deb(pkg: Package, workdir: Path, out: Path) -> Path:
    root = workdir / f"{pkg.name}_{pkg.version}"
    (root / "DEBIAN").mkdir(parents=True)
    control = [f"Package: {pkg.name}", f"Version: {pkg.version}", "Architecture: all",
               "Maintainer: celeryroot tests <tests@localhost>", "Section: misc", "Priority: optional",
               f"Description: {pkg.name}, a celeryroot test package"]
    if pkg.depends:
        control.insert(3, f"Depends: {pkg.depends}")
    (root / "DEBIAN/control").write_text("\n".join(control) + "\n")
    if pkg.conffiles:
        (root / "DEBIAN/conffiles").write_text("".join(f"{c}\n" for c in pkg.conffiles))
    for rel, content, mode in pkg.files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        path.chmod(mode)
    deb = out / f"{pkg.name}_{pkg.version}_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(root), str(deb)], check=True,
                   capture_output=True)
    return deb


@dataclass(frozen=True)
class Repo:
    pool: Path
    apt_config: Path
    lists: Path
    daemon_port: int

    @classmethod
    def build(cls, workdir: Path, daemon_port: int) -> "Repo":
        pool, build = workdir / "pool", workdir / "build"
        pool.mkdir(parents=True)
        build.mkdir()
        for pkg in packages(daemon_port):
            build_deb(pkg, build, pool)
        _index(pool)
        sources = workdir / "sources.list"
        sources.write_text(f"deb [trusted=yes] file:{pool} ./\n")
        lists = workdir / "lists"
        config = apt_config(workdir / "apt.conf", sources, "-", lists)
        return cls(pool, config, lists, daemon_port)

    def publish(self, pkg: Package) -> Path:
        """Add a package to the repository (its index and Release anew), as
        a new version appears on a mirror; returns its .deb."""
        deb = build_deb(pkg, self.pool.parent / "build", self.pool)
        _index(self.pool)
        return deb

    def deb(self, name: str, version: str) -> Path:
        return self.pool / f"{name}_{version}_all.deb"

    def env(self) -> dict:
        return {"APT_CONFIG": str(self.apt_config)}

    def update(self) -> None:
        subprocess.run(["apt-get", "update", "-q"], env={"APT_CONFIG": str(self.apt_config),
                                                      "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
                       check=True, capture_output=True)


def apt_config(path: Path, sources: Path, parts: Path | str, lists: Path, extra: str = "") -> Path:
    """An APT_CONFIG file: apt reads ``sources`` and the ``*.list`` of
    ``parts`` ("-": none) and keeps its lists in ``lists`` (made here)."""
    (lists / "partial").mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'Dir::Etc::sourcelist "{sources}";\n'
        f'Dir::Etc::sourceparts "{parts}";\n'
        'APT::Get::List-Cleanup "0";\n'
        f'Dir::State::Lists "{lists}";\n' + extra)
    return path


def _index(pool: Path) -> None:
    index = subprocess.run(["apt-ftparchive", "packages", "."], cwd=pool, check=True,
                           capture_output=True, text=True).stdout
    (pool / "Packages").write_text(index)
    # Captured, then written: apt-ftparchive release hashes every file in
    # the folder, so a Release redirected into it would hash itself.
    release = subprocess.run(["apt-ftparchive", "-o", f"APT::FTPArchive::Release::Label={LABEL}",
                              "-o", f"APT::FTPArchive::Release::Origin={LABEL}", "release", "."],
                             cwd=pool, check=True, capture_output=True, text=True).stdout
    (pool / "Release").write_text(release)


def new_key(home: Path, name: str) -> tuple[bytes, str]:
    """A signing key made by gpg in its own ``home``: the public key,
    armored, and its fingerprint."""
    home.mkdir(mode=0o700, parents=True)
    gpg = ["gpg", "--homedir", str(home), "--batch"]
    subprocess.run([*gpg, "--passphrase", "", "--quick-gen-key", f"{name} <{name}@localhost>", "ed25519", "sign",
                    "never"], check=True, capture_output=True)
    public = subprocess.run([*gpg, "--armor", "--export"], check=True, capture_output=True).stdout
    listed = subprocess.run([*gpg, "--with-colons", "--list-keys"], check=True, capture_output=True, text=True).stdout
    return public, next(line.split(":")[9] for line in listed.splitlines() if line.startswith("fpr:"))


def sign(pool: Path, home: Path) -> None:
    """Sign the repository's Release with the key in ``home`` (InRelease,
    and Release.gpg beside it), so apt takes it only from that key."""
    gpg = ["gpg", "--homedir", str(home), "--batch", "--yes"]
    subprocess.run([*gpg, "--clearsign", "-o", str(pool / "InRelease"), str(pool / "Release")], check=True,
                   capture_output=True)
    subprocess.run([*gpg, "--armor", "--detach-sign", "-o", str(pool / "Release.gpg"), str(pool / "Release")],
                   check=True, capture_output=True)


def purge(names: list[str]) -> None:
    """Leave dpkg as it was: the test packages purged (dpkg itself, no apt)."""
    subprocess.run(["dpkg", "--purge", *names], capture_output=True)
