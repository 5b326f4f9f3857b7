"""apt_repository (and apt_key) against apt's own directories of a test's
APT_CONFIG: a sources.list, a sources.list.d and lists of their own, so the
host's apt is never read or changed. The source added is tests/debrepo.py's
local repository, so update_cache runs a real apt-get update offline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from conftest import bad_argument_fails, free_port, write
from debrepo import Repo, apt_config, new_key, purge, sign
from systable import SysCase, run_three


@pytest.fixture(scope="module")
def apt(tmp_path_factory):
    """The repository, and apt's directories: ``main`` (sources.list), ``parts``, ``lists``."""
    work = tmp_path_factory.mktemp("aptsources")
    repo = Repo.build(work / "repo", daemon_port=free_port())
    main, parts, lists = work / "sources.list", work / "sources.list.d", work / "lists"
    main.write_text("# the host's own\n")
    parts.mkdir()
    config = apt_config(work / "apt.conf", main, f"{parts}/", lists)
    return {"repo": repo, "main": main, "parts": parts, "lists": lists, "config": config}


def sources(apt) -> dict:
    """Every source file's text and mode, and whether apt has the repository's list."""
    files = [apt["main"], *sorted(apt["parts"].iterdir())]
    out = {p.name: (p.read_text(), oct(p.stat().st_mode & 0o777)) for p in files}
    out["listed"] = any("_Packages" in name for name in os.listdir(apt["lists"]))
    return out


def test_steps(fleet, play, apt, tmp_path):
    env = f"environment: {{APT_CONFIG: '{apt['config']}'}}"
    pool = apt["repo"].pool
    line = f"deb [trusted=yes] file:{pool} ./"
    default = "file_" + "_".join(re.sub(r"[^a-zA-Z0-9]", " ", str(pool)).split()) + ".list"
    steps = [
        SysCase("add", f"apt_repository: repo='{line}' filename=crtest",
                then={"crtest.list": (line + "\n", "0o644"), "listed": True}, diff=f"+{line}"),
        SysCase("spelled-otherwise", f"apt_repository:\n  repo: 'deb  [ trusted=yes ]  file:{pool} ./ # ours'\n"
                                     "  filename: other", changed=False),
        SysCase("mode", f"apt_repository: repo='{line}' filename=crtest mode=0600",
                then={"crtest.list": (line + "\n", "0o600")}),
        SysCase("remove", f"apt_repository: repo='{line}' state=absent update_cache=no",
                then={"crtest.list": None}),
        SysCase("default-filename", f"apt_repository: repo='{line}' update_cache=no",
                then={default: (line + "\n", "0o644")}),
        SysCase("second-line", f"apt_repository: repo='deb-src file:{pool} ./' update_cache=no",
                then={default: (f"{line}\ndeb-src file:{pool} ./\n", "0o644")}),
        SysCase("remove-one-of-two", f"apt_repository: repo='{line}' state=absent update_cache=no",
                then={default: (f"deb-src file:{pool} ./\n", "0o644")}),
    ]
    apt["main"].write_text("# the host's own\n")
    results = {}
    for step in steps:
        results[step.id] = run_three(play, tmp_path, step, lambda: sources(apt), task_extra=env)
    assert results["add"]["apply"]["sources_added"] == [str(apt["parts"] / "crtest.list")]
    assert results["remove"]["apply"]["sources_removed"] == [str(apt["parts"] / "crtest.list")]
    assert results["spelled-otherwise"]["apply"]["msg"] == f"{line} is in {apt['parts'] / 'crtest.list'}"


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    """A repository signed with a test key (``key``, its ``fpr``), a second
    key that did not sign it, and apt's directories with a trusted.gpg.d of
    their own."""
    if shutil.which("gpg") is None:
        pytest.skip("gpg is not installed (it signs the test repository)")
    work = tmp_path_factory.mktemp("aptkeys")
    repo = Repo.build(work / "repo", daemon_port=free_port())
    key, fpr = new_key(work / "signer", "signer")
    other, _ = new_key(work / "other", "other")
    sign(repo.pool, work / "signer")
    main, parts, trusted, keyrings = work / "sources.list", work / "sources.list.d", work / "trusted.gpg.d", \
        work / "keyrings"
    main.write_text("")
    for folder in (parts, trusted, keyrings):
        folder.mkdir()
    extra = f'Dir::Etc::trustedparts "{trusted}/";\nDir::Etc::trusted "{work}/trusted.gpg";\n'
    config = apt_config(work / "apt.conf", main, f"{parts}/", work / "lists", extra)
    write(work / "key.asc", key.decode())
    binary = subprocess.run(["gpg", "--homedir", str(work / "signer"), "--export"], check=True,
                            capture_output=True).stdout
    (work / "key.gpg").write_bytes(binary)
    return {"work": work, "repo": repo, "key": key, "binary": binary, "fpr": fpr, "other": other,
            "config": config, "trusted": trusted, "keyrings": keyrings, "lists": work / "lists"}


def keys(signed) -> dict:
    """Every key file's bytes and mode, and whether apt has the signed repository's list."""
    out = {p.name: (p.read_bytes(), oct(p.stat().st_mode & 0o777))
           for folder in (signed["trusted"], signed["keyrings"]) for p in sorted(folder.iterdir())}
    out["listed"] = any("_Packages" in name for name in os.listdir(signed["lists"]))
    return out


def test_keys(fleet, play, signed, tmp_path):
    env = f"environment: {{APT_CONFIG: '{signed['config']}'}}"
    work, fpr, key = signed["work"], signed["fpr"], signed["key"]
    keyring = signed["keyrings"] / "signer.asc"
    line = f"deb [signed-by={keyring}] file:{signed['repo'].pool} ./"
    steps = [
        SysCase("key-data", f"apt_key:\n  data: \"{{{{ lookup('file', '{work}/key.asc') }}}}\"\n  keyring: {keyring}",
                then={"signer.asc": (key, "0o644")}, diff="BEGIN PGP PUBLIC KEY BLOCK"),
        SysCase("source-signed-by-it", f"apt_repository: repo='{line}' filename=signed", then={"listed": True}),
        SysCase("key-file-by-id", f"apt_key: file={work}/key.gpg id=0x{fpr[-16:].lower()}",
                then={f"{fpr[-16:]}.gpg": (signed["binary"], "0o644")}),
        SysCase("key-url-default-name", f"apt_key: url=file://{work}/key.asc",
                then={f"{fpr[-16:]}.asc": (key, "0o644")}),
        SysCase("wrong-id", f"apt_key: file={work}/key.asc id=DEADBEEF", fails="does not end with id DEADBEEF"),
        SysCase("not-a-key", f"apt_key: file={signed['repo'].pool}/Release", fails="not an OpenPGP public key"),
        SysCase("absent-by-id", f"apt_key: id={fpr[-16:]} state=absent",
                then={f"{fpr[-16:]}.gpg": None, f"{fpr[-16:]}.asc": None}),
        SysCase("absent-keyring", f"apt_key: keyring={keyring} state=absent", then={"signer.asc": None}),
    ]
    results = {}
    for step in steps:
        results[step.id] = run_three(play, tmp_path, step, lambda: keys(signed), task_extra=env)
    assert results["key-data"]["apply"]["fp"] == fpr
    assert results["key-url-default-name"]["check"]["keyring"] == str(signed["trusted"] / f"{fpr[-16:]}.asc")


def test_apt_takes_the_signed_repository_only_with_its_key(signed, tmp_path):
    """What signed-by means to apt, with lists of their own each time: the
    signer's key file updates, another key's file is refused."""
    for name, key, ok in (("signer", signed["key"], True), ("other", signed["other"], False)):
        keyring = write(tmp_path / f"{name}.asc", key.decode())
        sources = write(tmp_path / f"{name}.list", f"deb [signed-by={keyring}] file:{signed['repo'].pool} ./\n")
        config = apt_config(tmp_path / f"{name}.conf", sources, "-", tmp_path / f"lists-{name}")
        done = subprocess.run(["apt-get", "-q", "update"], env={"APT_CONFIG": str(config), "PATH": os.environ["PATH"]},
                              capture_output=True, text=True)
        assert (done.returncode == 0) == ok, done
        if not ok:
            assert "NO_PUBKEY" in done.stdout + done.stderr and "is not signed" in done.stderr, done


@pytest.mark.parametrize("args,name,needle", [
    ({"data": "x", "keyserver": "keyserver.ubuntu.com"}, "keyserver", "not supported"),
    ({"data": "x", "file": "/k.asc"}, "file", "mutually exclusive"),
    ({"keyring": "/k.asc"}, "data", "is required with state=present"),
    ({"state": "absent"}, "id", "'id' or 'keyring' is required"),
    ({"id": "0xNOTHEX", "state": "absent"}, "id", "in hex"),
], ids=["keyserver", "data-and-file", "no-key", "absent-what", "id-hex"])
def test_apt_key_bad_arguments_fail_on_the_controller(play, tmp_path, args, name, needle):
    bad_argument_fails(play, tmp_path, "apt_key", args, name, needle)


@pytest.mark.parametrize("args,name,needle", [
    ({"repo": "ppa:someone/thing"}, "repo", "ppa: repositories are not supported"),
    ({"repo": "http://example.org/debian stable"}, "repo", "is not a source line"),
    ({"repo": "deb http://example.org/debian stable", "filename": "a/b"}, "filename", "without a '/'"),
    ({"repo": "deb http://example.org/debian stable", "state": "enabled"}, "state", "must be one of"),
], ids=["ppa", "no-type", "filename-slash", "state"])
def test_bad_arguments_fail_on_the_controller(play, tmp_path, args, name, needle):
    bad_argument_fails(play, tmp_path, "apt_repository", args, name, needle)


def test_deb822_source_with_its_key_inside(fleet, play, signed, tmp_path):
    """A .sources file whose Signed-By is the armored key itself: apt
    updates from the signed repository with it; disabled, then removed."""
    main, parts = write(tmp_path / "apt/sources.list", ""), tmp_path / "apt/sources.list.d"
    parts.mkdir()
    config = apt_config(tmp_path / "apt/apt.conf", main, f"{parts}/", tmp_path / "apt/lists")
    env = f"environment: {{APT_CONFIG: '{config}'}}"
    pool, key = signed["repo"].pool, signed["key"].decode()
    folded = "".join(f"\n {line.strip() or '.'}" for line in key.strip().splitlines())
    text = f"X-Repolib-Name: signed\nTypes: deb\nURIs: file:{pool}\nSuites: ./\n"
    task = (f"deb822_repository:\n  name: signed\n  uris: file:{pool}\n  suites: ./\n"
            f"  signed_by: \"{{{{ lookup('file', '{signed['work']}/key.asc') }}}}\"\n")

    def observe() -> dict:
        out = {p.name: (p.read_text(), oct(p.stat().st_mode & 0o777)) for p in parts.iterdir()}
        out["listed"] = any("_Packages" in name for name in os.listdir(tmp_path / "apt/lists"))
        return out

    for step in [
        SysCase("deb822", task, then={"signed.sources": (f"{text}Signed-By:{folded}\n", "0o644")}),
        SysCase("update", "apt: update_cache=yes", then={"listed": True}),
        SysCase("disabled", task + "  enabled: no",
                then={"signed.sources": (f"{text}Enabled: no\nSigned-By:{folded}\n", "0o644")}),
        SysCase("absent", "deb822_repository: name=signed state=absent", then={"signed.sources": None}),
    ]:
        run_three(play, tmp_path, step, observe, task_extra=env)


SOURCE_BOOK = """
- hosts: aptbox
  gather_facts: false
  tasks:
    - name: the vendor's source
      apt_repository: repo="deb [trusted=yes] file:{pool} ./" filename=vendor
    - name: the vendor's package
      apt: name=crtest-tinypkg
    - name: its configuration
      copy: content="size=huge\\n" dest=/etc/crtest-tinypkg/defaults
"""


@pytest.mark.parametrize("way", ["bundles", "linear"])
def test_check_mode_installs_from_a_source_it_would_add(workers, play, apt, tmp_path, way):
    """Add a source, install its package, configure it: --check cannot ask
    apt about a source that is not there yet, so it takes the package as
    coming from it (its files unknown, so the copy into its directory
    predicts changed and says why); the real run does it all, then ok."""
    main, parts = write(tmp_path / "apt/sources.list", ""), tmp_path / "apt/sources.list.d"
    parts.mkdir()
    config = apt_config(tmp_path / "apt/apt.conf", main, f"{parts}/", tmp_path / "apt/lists")
    workers.start("aptbox", env={"APT_CONFIG": str(config)})
    book = write(tmp_path / "site.yaml", SOURCE_BOOK.format(pool=apt["repo"].pool))
    inventory = write(tmp_path / "inventory.yaml", "all:\n  hosts:\n    aptbox:\n")
    tasks = ("the vendor's source", "the vendor's package", "its configuration")

    def run(*flags):
        out = play(book, *(["--strategy", "linear"] if way == "linear" else []), *flags, inventory=inventory)
        assert out.rc == 0, out
        assert [p["play"]["execution"]["mode"] for p in out.doc["plays"]] == [way]
        return {t: out.results(t)["aptbox"] for t in tasks}

    try:
        checked = run("--check")
        assert all(r["changed"] for r in checked.values()), checked
        assert "from the sources an earlier task would add" in checked["the vendor's package"]["msg"], checked
        assert "whose files could not be read" in checked["its configuration"]["msg"], checked
        assert not list(parts.iterdir()) and not os.path.exists("/etc/crtest-tinypkg")
        applied = run()
        assert all(r["changed"] for r in applied.values()), applied
        assert open("/etc/crtest-tinypkg/defaults").read() == "size=huge\n"
        again = run()
        assert not any(r["changed"] for r in again.values()), again
    finally:
        purge(["crtest-tinypkg"])
