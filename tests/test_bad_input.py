"""Malformed input: a clear message with file:line, exit 1, and no host contacted.

The hosts here have no worker; had anything been sent, their queue would
exist in Redis. Each case asserts it does not.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import Outcome, write

INVENTORY = """
all:
  children:
    web:
      hosts:
        ghost1: {root: /tmp/celeryroot-ghost1}
        ghost2: {root: /tmp/celeryroot-ghost2}
"""

CASES = [
    ("yaml syntax", "- hosts: web\n  tasks:\n    - file: {path: /x\n", [],
     r"site\.yaml:4:1: YAML syntax error: .*\n\nThe offending line appears to be:\n\n    - file: \{path: /x\n"
     r" {12}\^ here\n"),
    ("unquoted template", "- hosts: web\n  tasks:\n    - file:\n        path: {{ root }}/y\n", [],
     r"site\.yaml:4:25: YAML syntax error: .*\n\nThe offending line appears to be:\n\n        path: \{\{ root \}\}/y\n"
     r" {24}\^ here\n\nA value that starts with \{\{ must be in quotes.*\n\n        path: \"\{\{ root \}\}/y\"\n"),
    ("unquoted template item", "- hosts: web\n  tasks:\n    - debug: msg={{ item }}\n      loop:\n"
                               "        - {{ a }}/b\n", [],
     r"site\.yaml:5:18: YAML syntax error: .*\n\n.*\n\n        - \{\{ a \}\}/b\n {17}\^ here\n\nA value that starts with \{\{ must be in quotes"
     r".*\n\n        - \"\{\{ a \}\}/b\"\n"),
    ("template read as a mapping", "- hosts: web\n  tasks:\n    - debug:\n        msg: {{ x }}\n", [],
     r"site\.yaml:4:15: YAML syntax error: a mapping or a list cannot be a key\n\n.*\n\n        msg: \{\{ x \}\}\n"
     r" {14}\^ here\n\nA value that starts with \{\{ must be in quotes"),
    ("start at no task", "- hosts: web\n  tasks:\n    - name: one\n      ping:\n", ["--start-at-task", "no such task"],
     r'ERROR! No matching task "no such task" found\. Note: --start-at-task matches a task\'s name'),
    ("broker without scheme", "- hosts: web\n  tasks:\n    - ping:\n", ["--broker", "127.0.0.1:6379"],
     r"ERROR! broker URL '127\.0\.0\.1:6379' has no scheme; expected redis://, rediss://, sentinel:// or "
     r"memory:// \(from --broker\)"),
    ("unknown module", "- hosts: web\n  tasks:\n    - fiel: path=/x\n", [],
     r"site\.yaml:3:7: unknown module or task keyword 'fiel'; did you mean 'file'\?"),
    ("unknown argument", "- hosts: web\n  tasks:\n    - file:\n        pth: /x\n", [],
     r"site\.yaml:4:9: file: unsupported argument 'pth'"),
    ("missing argument", "- hosts: web\n  tasks:\n    - file:\n        state: directory\n", [],
     r"site\.yaml:3:7: file: missing required argument 'path'"),
    ("wrong type", "- hosts: web\n  tasks:\n    - file: {path: /x, recurse: maybe}\n", [],
     r"site\.yaml:3:\d+: file: argument 'recurse': expected a boolean"),
    ("bad choice", "- hosts: web\n  tasks:\n    - file: path=/x state=folder\n", [],
     r"site\.yaml:3:\d+: file: argument 'state' must be one of: file, directory, absent"),
    ("bad mode", "- hosts: web\n  tasks:\n    - file: path=/x mode=rwx\n", [],
     r"file: argument 'mode': bad mode 'rwx'"),
    ("unknown host pattern", "- hosts: webz\n  tasks:\n    - ping:\n", [],
     r"site\.yaml:1:3: host pattern 'webz' .* matches no host or group"),
    ("unknown limit", "- hosts: web\n  tasks:\n    - ping:\n", ["--limit", "nosuch*"],
     r"host pattern 'nosuch\*' .* matches no host or group"),
    ("bad regex in hosts", "- hosts: '~ghost[1'\n  tasks:\n    - ping:\n", [],
     r"site\.yaml:1:3: host pattern '~ghost\[1' .* is not a valid regular expression: unterminated"),
    ("bad regex in limit", "- hosts: web\n  tasks:\n    - ping:\n", ["--limit", "~x["],
     r"--limit: host pattern '~x\[' .* is not a valid regular expression"),
    ("undefined variable", "- hosts: web\n  tasks:\n    - name: uses nope\n      file: path={{ nope }}\n", [],
     r"site\.yaml:3:7: task 'uses nope' for host 'ghost1': undefined variable: 'nope' is undefined"),
    ("undefined in when", "- hosts: web\n  tasks:\n    - ping:\n      when: nope == 1\n", [],
     r"site\.yaml:3:7: .*'nope' is undefined"),
    ("templated wrong type", "- hosts: web\n  vars: {deep: maybe}\n  tasks:\n"
                             "    - file: {path: /x, recurse: '{{ deep }}'}\n", [],
     r"site\.yaml:4:\d+: .*argument 'recurse': expected a boolean"),
    # Ansible's boolean words hold for keywords: on is fine, maybe is not
    ("keyword not a boolean", "- hosts: web\n  check_mode: on\n  tasks:\n    - ping:\n      diff: maybe\n", [],
     r"site\.yaml:5:13: 'diff' must be a boolean, got 'maybe'"),
    ("unknown play keyword", "- hosts: web\n  taskz: []\n", [],
     r"site\.yaml:2:3: unknown play keyword 'taskz'"),
    ("play without hosts", "- name: nothing\n  tasks: []\n", [], r"site\.yaml:1:3: the play has no 'hosts:'"),
    ("two modules", "- hosts: web\n  tasks:\n    - file: path=/x\n      ping:\n", [],
     r"site\.yaml:3:7: the task names more than one module: file, ping"),
    ("unknown handler", "- hosts: web\n  tasks:\n    - ping:\n      notify: restart nginx\n", [],
     r"site\.yaml:3:7: task 'ping' notifies 'restart nginx', but the play has no handler"),
    ("tasks not a list", "- hosts: web\n  tasks: {ping: {}}\n", [], r"site\.yaml:2:10: tasks must be a list"),
    ("bad extra vars file", "- hosts: web\n  tasks:\n    - ping:\n", ["-e", "@missing.yaml"],
     r"missing\.yaml: cannot read file"),
    ("not a playbook", "hosts: web\n", [], r"site\.yaml:1:1: a playbook must be a list"),
    ("huge power", "- hosts: web\n  tasks:\n    - debug: msg={{ 9 ** (9 ** 9) }}\n", [],
     r"site\.yaml:3:7: .*template error in .*more than the 4300 digits"),
    ("division by zero", "- hosts: web\n  tasks:\n    - debug: msg={{ 1 // 0 }}\n", [],
     r"site\.yaml:3:7: .*template error in .*division or modulo by zero"),
    ("huge string", "- hosts: web\n  tasks:\n    - debug: msg={{ 'A' * 20000000000 }}\n", [],
     r"site\.yaml:3:7: .*template error"),
    ("alias bomb", "- hosts: web\n  vars:\n    a: &a [x, x, x, x, x, x, x, x, x]\n    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n    f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n    h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n    i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n  tasks:\n    - ping:\n", [], r"site\.yaml:\d+:\d+: aliases expand to more than 100000 values"),
    ("deep nesting", "- hosts: web\n  vars:\n    x: " + "[" * 10000 + "]" * 10000 + "\n  tasks:\n    - ping:\n", [],
     r"site\.yaml:3:\d+: the data nests more than 100 levels deep"),
    ("NUL byte", "- hosts: web\n  tasks:\n    - ping:\x00\n", [], r"site\.yaml:\d+:\d+: .*NUL"),
    ("loop of 1,200,000 items", "- hosts: web\n  tasks:\n    - debug: msg={{ item }}\n"
                                "      with_items: [\"{{ (range(100000) | list) * 6 }}\", "
                                "\"{{ (range(100000) | list) * 6 }}\"]\n", [],
     r"site\.yaml:3:7: task 'debug' for host 'ghost1': the loop has 1200000 items; a task loops over at most 1000000"),
    ("loop of a million items", "- hosts: web\n  tasks:\n    - debug: msg={{ item }}\n"
                                "      loop: \"{{ range(1000000) | list }}\"\n", [],
     r"site\.yaml:3:7: task 'debug' for host 'ghost1': template error in .*: Range too big"),
    ("unknown with_ loop", "- hosts: web\n  tasks:\n    - debug: msg={{ item }}\n      with_itmes: [1]\n", [],
     r"site\.yaml:4:7: unknown loop 'with_itmes': there is no lookup 'itmes'; did you mean 'with_items'\?"),
    ("with_ of no lookup", "- hosts: web\n  tasks:\n    - debug: msg={{ item }}\n      with_k8s: [1]\n", [],
     r"site\.yaml:4:7: unknown loop 'with_k8s': there is no lookup 'k8s' \(celeryroot has loop and with_csvfile"),
    ("a failing with_ lookup", "- hosts: web\n  tasks:\n    - debug: msg={{ item }}\n"
                               "      with_sequence: start=5 end=1\n", [],
     r"site\.yaml:3:7: task 'debug' for host 'ghost1': with_sequence: lookup\('sequence'\): sequence: to count "
     r"backwards make stride negative"),
    ("retries without end", "- hosts: web\n  tasks:\n    - command: 'false'\n      register: r\n"
                            "      until: r.rc == 0\n      retries: 100000\n      delay: 0\n", [],
     r"site\.yaml:6:16: 'retries' is 100000; celeryroot retries a task at most 1000 times"),
    ("bad when syntax", "- hosts: web\n  tasks:\n    - ping:\n      when: \"{{ x\"\n", [],
     r"site\.yaml:3:7: task 'ping' for host 'ghost1': cannot evaluate '\{\{ x': unexpected end of template"),
    ("loop not a list", "- hosts: web\n  tasks:\n    - ping:\n      loop: 5\n", [],
     r"site\.yaml:3:7: task 'ping' for host 'ghost1': loop must be a list, got 5"),
    ("unknown handler", "- hosts: web\n  tasks:\n    - ping:\n      notify: nope\n", [],
     r"site\.yaml:3:7: task 'ping' notifies 'nope', but the play has no handler of that name or 'listen' topic"),
    ("unknown play keyword", "- hosts: web\n  hostz: web\n  tasks: []\n", [],
     r"site\.yaml:2:3: unknown play keyword 'hostz'"),
    ("tasks not a list", "- hosts: web\n  tasks: {a: 1}\n", [], r"site\.yaml:2:10: tasks must be a list, got a mapping"),
    ("include of no file", "- hosts: web\n  tasks:\n    - include_tasks: nothere.yaml\n", [],
     r"site\.yaml:3:22: include_tasks: cannot find 'nothere\.yaml'"),
    ("task without a module", "- hosts: web\n  tasks:\n    - {name: x}\n", [],
     r"site\.yaml:3:7: the task names no module"),
    ("task with two modules", "- hosts: web\n  tasks:\n    - ping:\n      file: path=/x\n", [],
     r"site\.yaml:3:7: the task names more than one module: ping, file"),
    ("missing role", "- hosts: web\n  roles: [nosuchrole]\n", [], r"site\.yaml:2:11: role 'nosuchrole' not found"),
    ("missing vars file", "- hosts: web\n  vars_files: [missing.yaml]\n  tasks: []\n", [],
     r"site\.yaml:2:16: vars_files: cannot find 'missing\.yaml'"),
    ("retries not a number", "- hosts: web\n  tasks:\n    - command: 'false'\n      retries: many\n", [],
     r"site\.yaml:4:16: 'retries' must be a number, got 'many'"),
]


@pytest.mark.parametrize("name, text, args, message", CASES, ids=[c[0] for c in CASES])
def test_bad_playbook_is_reported_before_any_host(redis_server, play, tmp_path, name, text, args, message):
    inventory = write(tmp_path / "inventory.yaml", INVENTORY)
    book = write(tmp_path / "site.yaml", text)
    out = play(book, *args, inventory=inventory, json_out=False, timeout=60)
    assert out.rc == 1, out
    assert re.search(message, out.stderr), out.stderr
    assert "Traceback" not in out.stderr
    assert out.stdout == ""
    assert redis_server.client.keys("celeryroot.host.ghost*") == []
    # Bounded: the 60 s timeout above ends a hang (tests never fail on timing); memory is measured.
    assert out.peak_mb < 300, f"{out.peak_mb:.0f} MB"


@pytest.mark.parametrize("text, message", [
    ("all:\n  hosts:\n    web1: [a, b]\n", r"inventory\.yaml:3:11: host 'web1' must map to its variables"),
    ("all:\n  childs:\n    web: {}\n", r"inventory\.yaml:2:3: unknown key 'childs' in group 'all'"),
    ("all:\n  hosts:\n    web1:\n      x: [1\n", r"inventory\.yaml:5:1: YAML syntax error"),
    ("all:\n  hosts:\n    a/b:\n", r"inventory\.yaml:3:5: bad host name 'a/b'"),
    ("all:\n  hosts:\n    'web*':\n", r"inventory\.yaml:3:5: bad host name 'web\*'"),
])
def test_bad_inventory_is_reported_with_its_position(redis_server, play, tmp_path, text, message):
    inventory = write(tmp_path / "inventory.yaml", text)
    book = write(tmp_path / "site.yaml", "- hosts: all\n  tasks:\n    - ping:\n")
    out = play(book, inventory=inventory, json_out=False)
    assert out.rc == 1, out
    assert re.search(message, out.stderr), out.stderr


def test_a_broker_url_is_checked_wherever_it_comes_from(play, tmp_path):
    """celeryroot-play, celeryroot and celeryroot-worker share the one check;
    the error says where the URL came from and never shows its password."""
    book = write(tmp_path / "site.yaml", "- hosts: all\n  tasks:\n    - ping:\n")
    inventory = write(tmp_path / "inventory.yaml", INVENTORY)
    write(tmp_path / "celeryroot.yaml", "modules_path: []\nbroker_url: amqp://guest:s3cret@rabbit//\n")
    runs = {
        "play": play(book, env={"CELERYROOT_BROKER_URL": "web1:s3cret@127.0.0.1:6379"}, inventory=inventory,
                     json_out=False),
        "ad-hoc": _cli(tmp_path, "adhoc", "all", "-m", "ping", "-i", str(inventory), "--broker", "h:6379"),
        "worker": _cli(tmp_path, "worker", "--hostname", "w1"),
    }
    expected = {
        "play": r"broker URL 'web1:\*\*\*\*@127\.0\.0\.1:6379' has no scheme; .* \(from CELERYROOT_BROKER_URL\)",
        "ad-hoc": r"broker URL 'h:6379' has no scheme; expected redis://.* \(from --broker\)",
        "worker": r"celeryroot\.yaml:2:13: broker URL 'amqp://guest:\*\*\*\*@rabbit//' has the unsupported scheme "
                  r"'amqp://'; expected redis://, rediss://, sentinel:// or memory:// \(from celeryroot\.yaml\)",
    }
    for name, out in runs.items():
        assert out.rc == 1, (name, out)
        assert re.search(expected[name], out.stderr), (name, out.stderr)
        assert "s3cret" not in out.stderr and "Traceback" not in out.stderr, (name, out.stderr)


def _cli(cwd, command: str, *args: str) -> Outcome:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELERYROOT_")}
    proc = subprocess.run([sys.executable, "-m", f"celeryroot.cli.{command}", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=60)
    return Outcome(proc.returncode, proc.stdout, proc.stderr, 0, is_json=False)


def test_a_decimal_mode_warns_with_its_position_and_the_run_goes_on(play, tmp_path):
    """ansible-lint's risky-octal: ``mode: 755`` is the mode 1363, a YAML
    1.1 ``0755`` or a quoted '0755' is what was meant."""
    inventory = write(tmp_path / "inventory.yaml", INVENTORY)
    book = write(tmp_path / "site.yaml", "- hosts: web\n  tasks:\n    - file:\n        path: /x\n        mode: 755\n"
                                         "    - file: path=/y\n      args: {mode: 493}\n"
                                         "    - file: {path: /z, mode: 0755}\n    - file: {path: /z, mode: '755'}\n"
                                         "    - file: path=/z mode=755\n")
    out = play(book, "--syntax-check", inventory=inventory, json_out=False)
    assert out.rc == 0, out
    warnings = [line for line in out.stderr.splitlines() if line.startswith("[WARNING]")]
    assert warnings == [
        f"[WARNING]: {book}:5:9: mode: 755 is the decimal integer 755 (octal 1363); quote it ('0755') or write 0755",
        f"[WARNING]: {book}:7:14: mode: 493 is the decimal integer 493 (octal 0755); write it in octal (0755) "
        "or as a string ('0755')",
    ], out.stderr
