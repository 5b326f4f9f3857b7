"""apt: Debian packages, through apt-get."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import tempfile
import time
from dataclasses import dataclass

from ..host import dpkg
from ..module import SOURCE, ArgError, Created, Module, ModuleFailure, Plan, arg
from ..host.proc import run
from ..host.sysops import CommandChange, attribute_text, run_checked

#: apt-get's words for "dpkg's or the lists' lock is held by someone else".
LOCKED = re.compile(r"Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock directory")
UPGRADES = ("no", "yes", "safe", "full", "dist")
#: apt-get's words for a package it does not know (yet).
UNKNOWN = re.compile(r"E: (?:Unable to locate package (\S+)|Package '([^']+)' has no installation candidate)")
#: The most paths a check run takes from the packages a task would install
#: (they travel with every later task of the host's check run).
MAX_SHIPPED = 5000
#: The commands apt runs around an update (they may write anywhere), cleared
#: for the update of a copy of the lists.
UPDATE_HOOKS = ("Pre-Invoke", "Post-Invoke", "Post-Invoke-Success")
OPS = {"install": "installed", "reinstall": "installed", "upgrade": "upgraded", "downgrade": "upgraded",
       "remove": "removed", "purge": "removed"}


def _upgrade_word(value) -> str:
    """``upgrade: yes`` arrives as a boolean from YAML; the words stay words."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    word = str(value).strip().lower()
    return {"true": "yes", "false": "no"}.get(word, word)


class Apt(Module):
    """Install, upgrade or remove Debian packages with apt-get.

    ``state=present`` installs what is missing (``name=version`` pins a
    version), ``latest`` upgrades to the candidate version (only those
    already installed with ``only_upgrade``), ``absent`` removes
    (``purge`` also removes configuration files). ``deb`` installs a
    ``.deb`` file on the host, with its dependencies, unless that version
    is installed. ``upgrade`` upgrades every installed package: ``yes`` or
    ``safe`` never removes one (``apt-get upgrade --with-new-pkgs``),
    ``full`` or ``dist`` may (``apt-get dist-upgrade``). Installed state
    is read with ``dpkg-query``; what apt-get would do is read from
    ``apt-get -s``, so ``--check`` names every package it would install,
    upgrade or remove, dependencies included. apt-get runs
    non-interactively and keeps existing configuration files
    (``dpkg_options``). When dpkg's lock is held by another process, the
    module waits up to ``lock_timeout`` seconds for it.

    The result lists ``installed``, ``upgraded`` and ``removed`` packages
    with their versions. In check mode a package that would be installed
    counts as present for later tasks of the run (the ``service`` of a
    daemon it ships predicts ``changed`` instead of failing), and so do
    its files, read from its ``.deb`` (``apt-get download`` into a scratch
    directory, at most 60 s and 100 MiB): a template into ``/etc/haproxy/`` after
    ``apt: name=haproxy`` predicts ``changed``. When the ``.deb`` cannot
    be had, a later task takes any missing path as one the package may
    ship, and its message says so.

    apt's own configuration applies: set ``APT_CONFIG`` in the worker's
    environment or the task's ``environment:`` to use another apt.conf
    (other sources, a proxy); ``update_cache`` records its time on the
    lists directory (``Dir::State::Lists``) for ``cache_valid_time``.
    ``update_cache`` is ``changed`` only when the lists change: the update
    is first run into a scratch copy of the lists (hard links, apt's
    update hooks cleared), which is also how ``--check`` predicts it.

    Example:
        - apt: name=nginx state=present update_cache=yes cache_valid_time=3600
        - apt:
            name: [curl, "openssl=3.0.11-1~deb12u2"]
            install_recommends: no
        - apt: name=telnet state=absent purge=yes autoremove=yes
        - apt: deb=/tmp/tool_1.2_amd64.deb
        - apt: upgrade=dist update_cache=yes
    """

    name = "apt"

    @dataclass(frozen=True, kw_only=True)
    class Args:
        name: list[str] | None = arg(None, aliases=("package", "pkg"),
                                     doc="Package names, a list or comma-separated; NAME=VERSION pins a version.")
        state: str = arg("present", choices=("present", "absent", "latest"),
                         doc="present: installed; latest: at the candidate version; absent: removed.")
        deb: str | None = arg(None, host_path=True, doc="A .deb file on the host to install (with state=present).")
        upgrade: str = arg("no", convert=_upgrade_word, choices=UPGRADES,
                           doc="Upgrade every installed package: yes/safe never removes one, full/dist may.")
        only_upgrade: bool = arg(False, doc="With a name: upgrade only the packages already installed.")
        update_cache: bool | None = arg(None, aliases=("update-cache",),
                                        doc="Run apt-get update first (default: yes when cache_valid_time is set).")
        cache_valid_time: int = arg(0, doc="Seconds a previous update stays fresh enough to skip update_cache.")
        purge: bool = arg(False, doc="With state=absent, also remove configuration files.")
        autoremove: bool = arg(False, doc="Remove dependencies nothing needs any more (alone: apt-get autoremove).")
        install_recommends: bool | None = arg(None, aliases=("install-recommends",),
                                              doc="Install recommended packages too (default: apt's setting).")
        allow_downgrade: bool = arg(False, aliases=("allow-downgrade", "allow_downgrades", "allow-downgrades"),
                                    doc="Allow a pinned version older than the installed one.")
        dpkg_options: str = arg("force-confdef,force-confold",
                                doc="Comma-separated dpkg options (without --); the default keeps changed conffiles.")
        lock_timeout: int = arg(120, doc="Seconds to wait for dpkg's lock held by another process.")

        def check(self) -> None:
            given = [n for n, v in (("name", self.name is not None), ("deb", self.deb is not None),
                                    ("upgrade", self.upgrade != "no")) if v]
            if not (given or self.update_cache or self.cache_valid_time or self.autoremove):
                raise ArgError("name", "one of 'name', 'deb', 'upgrade', 'update_cache' or 'autoremove' "
                                       "is required")
            if len(given) > 1:
                raise ArgError(given[1], f"parameters are mutually exclusive: '{given[0]}'|'{given[1]}' "
                                         "(use one task for each)")
            if self.deb is not None and "://" in self.deb:
                raise ArgError("deb", "argument 'deb': a URL is not supported; fetch the file first (get_url)")
            if self.deb is not None and self.state != "present":
                raise ArgError("state", "deb installs a file: state must be present")
            if self.state == "latest" and any("=" in n for n in self.name or ()):
                raise ArgError("name", "argument 'name': a version (NAME=VERSION) is not allowed with state=latest")

    def env(self) -> dict:
        return apt_env(self.ctx.environment)

    # -- plan -----------------------------------------------------------------

    def plan(self) -> Plan:
        a = self.args
        reasons: list[str] = []
        with contextlib.ExitStack() as scratch:
            changes, lists = self._cache_change(reasons, scratch)
            argv = self._command(reasons)
            # After an update, apt-get would decide from the new lists.
            steps = self._simulate(argv, lists) if argv else []
            shipped = self._shipped(steps, lists) if self.ctx.check else frozenset()
        if steps:
            changes.append(_package_change(steps, argv, a.lock_timeout, shipped))
        elif argv:
            reasons.append(self._nothing_to_do() if a.name else "no package to upgrade" if a.upgrade != "no"
                           else "no package to autoremove")
        elif a.name == ():
            reasons.append("no package named")
        data = {name: {} for name in ("installed", "upgraded", "removed")}
        data["cache_updated"] = any(isinstance(change, ListsUpdate) for change in changes)
        for step in steps:
            data[OPS[step.op]][step.name] = step.version()
        return Plan(changes, reason="; ".join(reasons), data=data)

    def _command(self, reasons: list[str]) -> tuple[str, ...] | None:
        """The apt-get command for what the task asks, or None when it is done."""
        a = self.args
        if a.name:
            return self._package_command(reasons)
        if a.deb is not None:
            return self._deb_command(reasons)
        if a.upgrade != "no":
            verb = ("upgrade", "--with-new-pkgs") if a.upgrade in ("yes", "safe") else ("dist-upgrade",)
            return (*self._apt_get(), *verb, *self._install_flags(), *(["--auto-remove"] if a.autoremove else []))
        if a.name is None and a.autoremove:
            return (*self._apt_get(), "autoremove", *(["--purge"] if a.purge else []))
        return None

    def _cache_change(self, reasons: list[str], scratch: contextlib.ExitStack) -> tuple[list[CommandChange],
                                                                                         str | None]:
        """The update, if it would change the lists, and where the lists it
        would leave are (a copy, which ``scratch`` removes), else None."""
        a = self.args
        if not (a.update_cache if a.update_cache is not None else a.cache_valid_time > 0):
            return [], None
        lists = self._lists()
        age = time.time() - os.stat(lists).st_mtime
        if a.cache_valid_time and age < a.cache_valid_time:
            reasons.append(f"package lists updated {int(age)}s ago (cache_valid_time {a.cache_valid_time})")
            return [], None
        copy = scratch.enter_context(self._updated_copy(lists))
        before, after = lists_state(lists), lists_state(copy)
        if before == after:
            reasons.append("package lists are up to date")
            return [], None
        return [ListsUpdate("update the package lists", before=attribute_text(before), after=attribute_text(after),
                            path=lists, argv=("apt-get", "-q", "update"), lock_timeout=a.lock_timeout,
                            lists=lists)], copy

    @contextlib.contextmanager
    def _updated_copy(self, lists: str):
        """The lists as an update would leave them, in a copy: hard links of
        the lists beside them (apt replaces a list by renaming a new file
        over it, never writing into it), updated with apt's binary caches
        off and its update hooks cleared, so nothing of the host's changes."""
        scratch = tempfile.mkdtemp(prefix=".celeryroot-lists-", dir=os.path.dirname(lists.rstrip("/")))
        try:
            os.chmod(scratch, 0o755)  # apt downloads as _apt, into partial/
            copy = os.path.join(scratch, "lists")
            run_checked(["cp", "-al", "--", lists, copy])
            _own_lock_and_partial(lists, copy)
            config = os.path.join(scratch, "apt.conf")
            with open(config, "w") as fh:
                fh.write("".join(f"#clear APT::Update::{hook};\n" for hook in UPDATE_HOOKS))
            AptGet("update a copy of the package lists", lock_timeout=self.args.lock_timeout, argv=(
                "apt-get", "-q", "-c", config, *_lists_options(copy), "update")).run(self.ctx.environment)
            yield copy
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _package_command(self, reasons: list[str]) -> tuple[str, ...] | None:
        """The apt-get command for the packages still to change, or None."""
        a = self.args
        wanted = [_split(spec) for spec in a.name]
        have = dpkg.query([n for n, _ in wanted], self.env())
        if a.state == "absent":
            targets = [n for n, _ in wanted if n in have and (have[n].present or a.purge and have[n].status
                                                                == "config-files")]
            verb = ["remove", *(["--purge"] if a.purge else [])]
        elif a.state == "present":
            targets = [spec for spec, (n, v) in zip(a.name, wanted)
                       if not (n in have and have[n].present and v in (None, have[n].version))]
            verb = ["install", *self._install_flags()]
        else:
            targets, verb = list(a.name), ["install", *self._install_flags()]
        if a.only_upgrade and a.state != "absent":
            targets = [spec for spec, (n, _) in zip(a.name, wanted) if spec in targets and n in have and have[n].present]
            verb.append("--only-upgrade")
        if not targets:
            reasons.append(self._nothing_to_do())
            return None
        return (*self._apt_get(), *verb, *(["--auto-remove"] if a.autoremove else []), "--", *targets)

    def _deb_command(self, reasons: list[str]) -> tuple[str, ...] | None:
        """``apt-get install FILE`` unless the file's version is installed
        (a path with a slash, so apt takes it as a file, not a name)."""
        path = os.path.abspath(self.args.deb)
        name, version = _deb_fields(path)
        have = dpkg.query([name], self.env()).get(name)
        if have and have.present and have.version == version:
            reasons.append(f"{name} {version} ({path}): installed")
            return None
        return (*self._apt_get(), "install", *self._install_flags(), "--", path)

    def _nothing_to_do(self) -> str:
        names = ", ".join(self.args.name)
        return {"present": f"{names}: installed", "latest": f"{names}: at the newest version",
                "absent": f"{names}: not installed"}[self.args.state]

    def _install_flags(self) -> list[str]:
        a = self.args
        flags = ["--allow-downgrades"] if a.allow_downgrade else []
        if a.install_recommends is not None:
            flags.append("--install-recommends" if a.install_recommends else "--no-install-recommends")
        return flags

    def _apt_get(self) -> tuple[str, ...]:
        options = [o.strip() for o in self.args.dpkg_options.split(",") if o.strip()]
        return ("apt-get", "-y", "-q", *(f"-o=Dpkg::Options::=--{o}" for o in options))

    def _simulate(self, argv: tuple[str, ...], lists: str | None) -> list[dpkg.Step]:
        """What ``argv`` would do; ``lists``: with the lists of that directory."""
        done = run([argv[0], "-s", *(_lists_options(lists) if lists else ()), *argv[1:]], env=self.env())
        if done.rc != 0:
            errors = [line for line in done.stderr.splitlines() if line.startswith("E:")] or [done.stderr]
            unseen = self._from_new_sources(errors)
            if unseen:
                return unseen
            raise ModuleFailure(f"apt-get cannot do it: {' '.join(errors)}", **done.data())
        return dpkg.simulated(done.stdout)

    def _from_new_sources(self, errors: list[str]) -> list[dpkg.Step]:
        """In a check run where an earlier task would add apt sources
        (`Created.source`), the packages apt cannot find yet, taken as
        installed from them, their versions and files unknown; [] when
        anything else went wrong."""
        if not self.ctx.pending(SOURCE) or not self.args.name:
            return []
        missing = [UNKNOWN.match(line) for line in errors]
        if not all(missing):
            return []
        return [dpkg.Step("install", m.group(1) or m.group(2), None, None) for m in missing]

    def _shipped(self, steps: list[dpkg.Step], lists: str | None) -> frozenset[str]:
        """For a check run, what the packages it would install would put
        on the host (the paths not there yet, at most
        `MAX_SHIPPED`, else only their directories), or, when their files
        cannot be read, the mark that any path may be theirs
        (`Created.unlisted`), so a later task into ``/etc/PACKAGE/``
        predicts ``changed`` instead of failing."""
        # New packages only: an upgraded one's files are there already, and
        # a check of upgrade=dist must not fetch the whole upgrade.
        added = [s for s in steps if s.op == "install"]
        if not added:
            return frozenset()
        if any(s.after is None for s in added):  # from a source not added yet: no .deb to read
            return frozenset(Created.unlisted(s.name) for s in added)
        local = os.path.abspath(self.args.deb) if self.args.deb is not None else None
        local_name = _deb_fields(local)[0] if local else None
        paths = dpkg.shipped([(s.name, s.after) for s in added if s.name != local_name],
                             _lists_options(lists) if lists else (), self.env(), local=(local,) if local else ())
        if paths is None:
            return frozenset(Created.unlisted(s.name) for s in added)
        new = {p for p in paths if not os.path.lexists(p)}
        if len(new) > MAX_SHIPPED:
            new = {os.path.dirname(p) for p in new} & new
        if len(new) > MAX_SHIPPED:
            return frozenset(Created.unlisted(s.name) for s in added)
        return frozenset(map(Created.path, new))

    def _lists(self) -> str:
        return apt_path("Dir::State::Lists/d", "/var/lib/apt/lists", self.ctx.environment)


def apt_env(environment: dict) -> dict:
    """What apt-get, apt-config and dpkg-query run with: the task's
    ``environment:`` over the worker's APT_CONFIG, which is apt's, not ours
    to drop like the rest of the worker's environment (proc.child_env starts
    from nothing)."""
    inherited = {"APT_CONFIG": os.environ["APT_CONFIG"]} if "APT_CONFIG" in os.environ else {}
    return {**inherited, "DEBIAN_PRIORITY": "critical", **environment}


def apt_path(key: str, default: str, environment: dict) -> str:
    """A path of apt's configuration (``Dir::Etc::sourceparts/d``: a
    directory, ``/f`` a file), as apt-get run with the task's environment
    would use it."""
    done = run(["apt-config", "shell", "VALUE", key], env=apt_env(environment))
    return shlex.split(done.stdout.partition("=")[2])[0] if done.stdout else default


def update_lists(environment: dict, lock_timeout: int) -> dict:
    """``apt-get update`` now, for a module whose change needs the lists
    read anew (a source added)."""
    lists = apt_path("Dir::State::Lists/d", "/var/lib/apt/lists", environment)
    return ListsUpdate("update the package lists", argv=("apt-get", "-q", "update"), lock_timeout=lock_timeout,
                       lists=lists).run(environment)


@dataclass(frozen=True)
class AptGet(CommandChange):
    """An apt-get command, run once dpkg's lock is free (``lock_timeout``)."""

    lock_timeout: int = 120

    def run(self, env: dict) -> dict:
        deadline = time.monotonic() + self.lock_timeout
        while True:
            done = run(list(self.argv), env=apt_env(env))
            if done.rc == 0:
                return done.data()
            locked = LOCKED.search(done.stderr)
            if not locked or time.monotonic() >= deadline:
                break
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        errors = " ".join(line for line in done.stderr.splitlines() if line.startswith("E:")) or done.stderr
        why = (f"the lock is still held by another process after {self.lock_timeout}s (lock_timeout): "
               if locked else "")
        verb = next(word for word in self.argv[1:] if not word.startswith("-"))
        raise ModuleFailure(f"apt-get {verb} failed: {why}{errors}", **done.data(), cmd=list(self.argv))


@dataclass(frozen=True)
class ListsUpdate(AptGet):
    """``apt-get update``, which then marks the time on the lists directory."""

    lists: str = "/var/lib/apt/lists"

    def run(self, env: dict) -> dict:
        out = super().run(env)
        # A source that did not change leaves the lists untouched;
        # cache_valid_time needs the time of the last update itself.
        os.utime(self.lists)
        return {**out, "cache_update_time": int(time.time())}


def _own_lock_and_partial(lists: str, copy: str) -> None:
    """The copy's lock and partial downloads of its own: a lock shared by
    a hard link is one lock (the copy's update would wait for the host's,
    and stop it), and apt resumes a partial download by writing into it."""
    lock = os.path.join(copy, "lock")
    if os.path.lexists(lock):
        os.unlink(lock)
    partial, original = os.path.join(copy, "partial"), os.path.join(lists, "partial")
    shutil.rmtree(partial, ignore_errors=True)
    if os.path.isdir(original):
        st = os.stat(original)
        os.mkdir(partial)
        os.chown(partial, st.st_uid, st.st_gid)
        os.chmod(partial, st.st_mode & 0o7777)


def _lists_options(lists: str) -> tuple[str, ...]:
    """apt reading the lists in ``lists`` (a copy), its binary caches of
    the host's lists neither read nor rewritten."""
    return (f"-o=Dir::State::Lists={lists}/", "-o=Dir::Cache::pkgcache=", "-o=Dir::Cache::srcpkgcache=")


def lists_state(lists: str) -> dict[str, str]:
    """What the lists directory holds: each list's size and time (apt sets
    a list's time from its source), the lock and partial downloads left out."""
    state = {}
    with os.scandir(lists) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False) and entry.name != "lock":
                st = entry.stat(follow_symlinks=False)
                state[entry.name] = f"{st.st_size} bytes, {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(st.st_mtime))}"
    return dict(sorted(state.items()))


def _deb_fields(path: str) -> tuple[str, str]:
    """The package name and version of a .deb file."""
    done = run(["dpkg-deb", "--showformat=${Package}\t${Version}", "--show", path])
    if done.rc != 0:
        raise ModuleFailure(f"cannot read the package {path}: {done.stderr.strip()}", **done.data())
    name, version = done.stdout.strip().split("\t")
    return name, version


def _split(spec: str) -> tuple[str, str | None]:
    name, sep, version = spec.partition("=")
    return name, version if sep else None


def _package_change(steps: list[dpkg.Step], argv: tuple[str, ...], lock_timeout: int,
                    shipped: frozenset[str]) -> AptGet:
    # A package installed or upgraded is there for the later tasks of a
    # check run, and so are its files.
    there = shipped | {Created.package(s.name) for s in steps if OPS[s.op] in ("installed", "upgraded")}
    unseen = any(s.after is None and OPS[s.op] == "installed" for s in steps)
    return AptGet(", ".join(s.text() for s in steps) + (" (from the sources an earlier task would add)" if unseen
                                                          else ""),
                  before=attribute_text({s.name: s.before or ("config-files" if s.op == "purge" else "absent")
                                          for s in steps}),
                  after=attribute_text({s.name: s.after or "absent" for s in steps}),
                  path="packages", creates=there, argv=argv, lock_timeout=lock_timeout)
