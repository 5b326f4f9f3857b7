"""``celeryroot-runs show ID --html FILE``: a real run on real workers, its
page written from the real history and read back as headless Chromium
parsed it (the DOM it dumps) and drew it (a screenshot)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from conftest import write
from test_history import inventory, runs

SCRIPT = "<script>alert(1)</script>"
PLAYBOOK = f"""
- hosts: all
  gather_facts: false
  tasks:
    - name: write motd
      copy:
        dest: "{{{{ root }}}}/motd"
        content: "<b>hello</b> {{{{ inventory_hostname }}}}\\n"
    - name: "{SCRIPT}"
      ping:
    - name: slow on db1
      command: sleep 1.5
      when: inventory_hostname == 'db1'
    - name: check db
      command: "false"
      when: inventory_hostname == 'web2'
    - name: after
      ping:
"""
HOSTS = ("web1", "web2", "db1")


class Element:
    def __init__(self, tag: str, attrs: dict, parents: list["Element"]):
        self.tag, self.attrs, self.parents, self.text = tag, attrs, parents, ""

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()


class Dom(HTMLParser):
    """A page's elements, each with its attributes, the text inside it and its parents."""

    VOID = {"meta", "br", "img", "input", "link", "hr"}

    def __init__(self, text: str):
        super().__init__()
        self.elements: list[Element] = []
        self.open: list[Element] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), list(self.open))
        self.elements.append(element)
        if tag not in self.VOID:
            self.open.append(element)

    def handle_endtag(self, tag):
        while self.open and self.open.pop().tag != tag:
            pass

    def handle_data(self, data):
        for element in self.open:
            element.text += data

    def find(self, tag: str, cls: str | None = None, within: Element | None = None, **attrs) -> list[Element]:
        """The ``tag`` elements (of class ``cls``, inside ``within``) with
        these attributes (``data_host`` for ``data-host``)."""
        return [e for e in self.elements if e.tag == tag and (cls is None or cls in e.classes)
                and (within is None or within in e.parents)
                and all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def one(self, tag: str, cls: str | None = None, within: Element | None = None, **attrs) -> Element:
        (found,) = self.find(tag, cls, within, **attrs)
        return found


@pytest.fixture
def chromium(tmp_path):
    """``chromium(*args, url)``: headless, without a display, with a HOME and profile of its own."""
    binary = shutil.which("chromium")
    if binary is None:
        pytest.skip("chromium is not installed (make test installs it)")
    home = tmp_path / "chromium-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["HOME"] = str(home)

    def run(*args: str) -> str:
        proc = subprocess.run([binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                               f"--user-data-dir={home}/profile", *args], capture_output=True, text=True,
                              env=env, cwd=tmp_path, timeout=60)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout

    return run


def test_a_run_as_a_page_seen_by_chromium(fleet, play, tmp_path, chromium):
    db = tmp_path / "runs.db"
    out = play(write(tmp_path / "site.yaml", PLAYBOOK), "--diff", inventory=inventory(tmp_path, *HOSTS),
               env={"CELERYROOT_HISTORY": str(db)})
    assert out.rc == 2, out
    run_id = out.doc["run_id"]
    page = tmp_path / "run.html"
    assert runs(db, "show", run_id[:6], "--html", str(page)) == ""
    assert oct(page.stat().st_mode & 0o777) == "0o600"
    text = page.read_text()
    # Self-contained, and the task named like a script is text.
    assert not re.search(r"<(script|link|img|iframe)\b|\bsrc=|https?://", text, re.I), text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "&lt;b&gt;hello&lt;/b&gt; web1" in text

    dom = Dom(chromium("--dump-dom", page.as_uri()))
    assert not dom.find("script")
    assert dom.one("code", id="run-id").text == run_id
    assert re.fullmatch(r"finished, exit 2", dom.one("dd", id="run-outcome").text), dom.one("dd", id="run-outcome").text
    assert dom.one("dd", id="run-command").text.startswith("celeryroot-play ")

    recap = {e.attrs["data-host"]: e for e in dom.find("tr", within=dom.one("table", id="recap"))
             if "data-host" in e.attrs}
    assert sorted(recap) == sorted(HOSTS)
    assert recap["web2"].classes == ["failed"] and recap["web1"].classes == []
    cells = {e.classes[0]: e.text for e in dom.find("td", within=recap["web2"])}
    assert (cells["n-ok"], cells["n-changed"], cells["n-failed"], cells["n-skipped"]) == ("2", "1", "1", "1"), cells

    lanes = dom.find("div", "lane", within=dom.one("section", id="timeline"))
    assert [e.attrs["data-host"] for e in lanes] == list(recap)  # one lane per host, in the recap's order
    bars = {(lane.attrs["data-host"], e.attrs["data-task"]): e for lane in lanes for e in dom.find("div", "bar", lane)}
    assert bars["web2", "check db"].attrs["data-status"] == "failed" and "failed" in bars["web2", "check db"].classes
    assert bars["web1", "check db"].attrs["data-status"] == "skipped"
    assert ("web2", "after") not in bars and bars["web1", "after"].attrs["data-status"] == "ok"  # web2 stopped there
    assert bars["web1", SCRIPT].attrs["data-status"] == "ok"
    widths = {key: float(re.search(r"width: ?([0-9.]+)%", bar.attrs["style"]).group(1)) for key, bar in bars.items()}
    assert widths["db1", "slow on db1"] > 5 * widths["web1", "slow on db1"], widths  # the slow host is seen

    assert SCRIPT in dom.one("section", "task", data_task=SCRIPT).text  # shown as the text it is
    diffs = [e.text for e in dom.find("pre", "diff")]
    assert any("+<b>hello</b> web1" in d for d in diffs), diffs
    failure = dom.one("div", "result", dom.one("section", "task", data_task="check db"), data_host="web2")
    assert failure.classes == ["result", "failed"] and "FAILED!" in failure.text, failure.text

    shot = tmp_path / "run.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,800", page.as_uri())
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000, len(png)
    assert int.from_bytes(png[16:20], "big") == 1280 and int.from_bytes(png[20:24], "big") == 800



def test_a_free_runs_timeline_has_each_host_at_its_own_pace(fleet, play, tmp_path):
    """Whole-play bundles report each task's start per host: web1 goes on while db1 sleeps."""
    db = tmp_path / "runs.db"
    free = PLAYBOOK.replace("gather_facts: false", "gather_facts: false\n  strategy: free")
    book = write(tmp_path / "free.yaml", free)
    out = play(book, inventory=inventory(tmp_path, *HOSTS), env={"CELERYROOT_HISTORY": str(db)})
    assert out.rc == 2, out
    got = {(r["task"], r["host"]): r for r in runs(db, "show", out.doc["run_id"], "--json")["results"]}
    assert got["after", "web1"]["started"] < got["slow on db1", "db1"]["at"], got
    dom = Dom(runs(db, "show", out.doc["run_id"], "--html", "-"))
    lanes = {e.attrs["data-host"]: e for e in dom.find("div", "lane")}
    left = {host: {e.attrs["data-task"]: float(re.search(r"left:([0-9.]+)%", e.attrs["style"]).group(1))
                   for e in dom.find("div", "bar", lanes[host])} for host in HOSTS}
    assert left["web1"]["after"] < left["db1"]["check db"], left
    assert [e.attrs["data-task"] for e in dom.find("div", "bar", lanes["web2"])][-1] == "check db"
