"""The run page (celeryroot-runs show --html) of a history's run document:
its words, its escaping, its timeline's arithmetic. Chromium reads a real
run's page in tests/test_history_page.py."""

from __future__ import annotations

import re

from celeryroot.report.html import page

SCRIPT = "<script>alert(1)</script>"


def a_run(**changes) -> dict:
    """A run as `History.run` gives it: interrupted after two results of web1."""
    run = {"id": "0123456789ab", "command": ["celeryroot-play", "site.yaml", "-e", "x=<i>"],
           "playbook": "/srv/site.yaml", "sha256": "ab" * 32, "check": False, "user": "ops", "controller": "c1",
           "pid": 42, "started": 1000.0, "ended": 1010.0, "state": "interrupted", "reason": "SIGTERM",
           "exit_status": 99, "hosts": 1, "failed_hosts": [],
           "recap": {"web1": {"ok": 2, "changed": 1, "unreachable": 0, "failed": 0, "skipped": 0, "rescued": 0,
                              "ignored": 0}},
           "results": [
               {"seq": 1, "play": "all", "task": SCRIPT, "host": "web1", "status": "changed", "started": 1001.0,
                "at": 1003.5, "result": {"changed": True, "diff": [{"before": "a\n", "after": "</pre><b>\n",
                                                                     "before_header": "f", "after_header": "f"}]}},
               {"seq": 2, "play": "all", "task": "ping", "host": "web1", "status": "ok", "started": None,
                "at": 1006.0, "result": {"changed": False}}]}
    run.update(changes)
    return run


def test_user_content_is_escaped():
    text = page(a_run())
    assert not re.search(r"<script|</pre><b>|<i>", text), text
    assert f'data-task="{SCRIPT.replace("<", "&lt;").replace(">", "&gt;")}"' in text
    assert "all » &lt;script&gt;alert(1)&lt;/script&gt;</h3>" in text
    assert '<span class="add">+&lt;/pre&gt;&lt;b&gt;</span>' in text
    assert "-e &#x27;x=&lt;i&gt;&#x27;" in text  # shlex-quoted, then escaped


def test_the_header_says_how_the_run_ended():
    text = page(a_run())
    assert '<span class="state interrupted">interrupted</span> (SIGTERM), exit 99' in text
    assert "sha256 <code>" + "ab" * 32 in text and "(10.0 s)" in text
    lost = page(a_run(state="lost", reason=None, exit_status=None, ended=None, recap=None))
    assert '<span class="state lost">lost</span></dd>' in lost and "ended before its recap" in lost
    assert 'data-host="web1"' in lost  # its lane, from its results


def test_bars_are_placed_by_start_and_duration():
    bars = re.findall(r'class="bar (\w+)" data-task="[^"]*" data-status="\w+" style="left:([0-9.]+)%;width:([0-9.]+)%"',
                      page(a_run()))
    # 10 s of run: the first task from 1 s to 3.5 s; the second, recorded before starts were, from there to 6 s.
    assert bars == [("changed", "10.000", "25.000"), ("ok", "35.000", "25.000")], bars


def test_a_bundles_interleaved_results_are_grouped_by_task():
    def result(seq, task, host):
        return {"seq": seq, "play": "all", "task": task, "host": host, "status": "ok", "started": 1000.0 + seq,
                "at": 1000.5 + seq, "result": {}}

    # Hosts of whole-play bundles at their own pace; "ping" twice in the play.
    results = [result(1, "ping", "web1"), result(2, "copy", "web1"), result(3, "ping", "web2"),
               result(4, "ping", "web1"), result(5, "copy", "web2"), result(6, "ping", "web2")]
    text = page(a_run(results=results, hosts=2, recap=None))
    sections = re.findall(r'<section class="task" data-task="(\w+)">(.*?)</section>', text)
    assert [(task, re.findall(r'data-host="(\w+)"', body)) for task, body in sections] == [
        ("ping", ["web1", "web2"]), ("copy", ["web1", "web2"]), ("ping", ["web1", "web2"])], sections
