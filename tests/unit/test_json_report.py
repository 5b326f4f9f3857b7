"""The --json document: Ansible's json callback's shape and indentation,
each host's result on one line."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

from celeryroot.report.json import JsonReport, write_indented


def indented(value, depth: int) -> str:
    out = io.StringIO()
    write_indented(value, depth, out)
    return out.getvalue()


def test_indented_is_json_dumps_with_indent_4_above_the_depth():
    doc = {"a": [1, {"b": {"c": [1, 2, {"d": "é\n"}], "e": {}}, "f": []}], "g": None, "h": 1.5, "i": True}
    assert indented(doc, 99) == json.dumps(doc, indent=4)
    shallow = indented(doc, 3)
    assert json.loads(shallow) == doc
    assert '            "b": {"c": [1, 2, {"d": "\\u00e9\\n"}], "e": {}},' in shallow.splitlines()


def test_a_recap_has_each_hosts_result_on_one_line():
    out = io.StringIO()
    report = JsonReport(out)
    report.play_start(SimpleNamespace(name="p"), ["web1", "web2"])
    report.task_start("TASK [t]", ["web1", "web2"])
    for host in ("web1", "web2"):
        report.host_result(host, "TASK [t]", {"status": "ok", "changed": False, "msg": f"hi {host}",
                                             "diff": [{"before": "a\n", "after": "b\n"}]})
    report.play_end()
    report.recap(SimpleNamespace(summary=lambda: {"web1": {"ok": 1}, "web2": {"ok": 1}}))
    text = out.getvalue()
    doc = json.loads(text)
    assert doc["plays"][0]["tasks"][0]["hosts"]["web2"]["msg"] == "hi web2"
    lines = text.splitlines()
    assert lines[0] == "{" and lines[1:3] == ['    "run_id": null,', '    "custom_stats": {},']
    assert ('                        "web1": {"changed": false, "msg": "hi web1", "diff": [{"before": "a\\n", '
            '"after": "b\\n"}]},') in lines
    assert '        "web2": {' in lines and '            "ok": 1' in lines
