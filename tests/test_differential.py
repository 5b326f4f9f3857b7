"""The same playbook run by ansible-playbook (``-c local``) and by
celeryroot (the embedded local mode), each in a directory of its own on this
machine: every task's status, in order, and the files each leaves behind
(modes and contents) must be the same.

ansible-core comes from its own virtualenv (``make test`` makes it,
.venv-ansible, from tests/requirements-ansible.txt; it is never a
dependency of celeryroot). Without it these tests are skipped, saying why.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, tree, write
from statuses import celeryroot_statuses, celeryroot_tasks, task_name

ANSIBLE_PLAYBOOK = Path(os.environ.get("CELERYROOT_TEST_ANSIBLE", ROOT / ".venv-ansible/bin/ansible-playbook"))
CALLBACKS = Path(__file__).parent / "ansible_callbacks"


@pytest.fixture(scope="module")
def ansible_playbook() -> Path:
    if not ANSIBLE_PLAYBOOK.exists():
        pip_log = ANSIBLE_PLAYBOOK.parent.parent / "pip.log"
        why = pip_log.read_text().strip().splitlines()[-1:] if pip_log.exists() else []
        pytest.skip(f"ansible-core is not installed at {ANSIBLE_PLAYBOOK} (make test installs it from "
                    f"tests/requirements-ansible.txt{'; it could not: ' + why[0] if why else ''})")
    return ANSIBLE_PLAYBOOK


class Run:
    """One tool's run of a playbook: its exit status, the status of every
    task result in order (``(kind, task, status)``), each result's ``msg``
    (a debug task's value) in the same order, the files under its ``out``
    directory, and what each loop's items said, task by task
    (``(task, [{"msg", "label", "index"}, …])``, the tool's directory in
    them written as ``WORKDIR``; a skipped item's ``msg`` is "(skipped)")."""

    def __init__(self, rc: int, statuses: list[tuple], files: dict, output: str, messages: list,
                 items: list | None = None):
        self.rc, self.statuses, self.files, self.output = rc, statuses, files, output
        self.messages = messages
        self.items = items or []

    def __repr__(self) -> str:
        return f"Run(rc={self.rc}, statuses={self.statuses}, output={self.output[-3000:]!r})"


def run_ansible(ansible_playbook: Path, workdir: Path, book: Path, args: tuple, environ: dict) -> Run:
    statuses = workdir / "statuses.jsonl"
    home = workdir / "ansible-home"
    env = {**os.environ, **environ, "ANSIBLE_HOME": str(home), "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
           "ANSIBLE_REMOTE_TEMP": str(home / "remote-tmp"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_DEPRECATION_WARNINGS": "0",
           "ANSIBLE_PYTHON_INTERPRETER": str(ansible_playbook.parent / "python"),
           "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS), "ANSIBLE_CALLBACKS_ENABLED": "celeryroot_statuses",
           "CELERYROOT_STATUSES": str(statuses)}
    proc = subprocess.run([str(ansible_playbook), "-c", "local", "-i", "localhost,", str(book), *args],
                          capture_output=True, text=True, cwd=workdir, env=env, timeout=300)
    lines = [json.loads(line) for line in statuses.read_text().splitlines()] if statuses.exists() else []
    return Run(proc.returncode, [(r["kind"], r["task"], r["status"]) for r in lines], _files(workdir),
               proc.stdout + proc.stderr, [r.get("msg") for r in lines],
               _neutral_items([(r["task"], r["items"]) for r in lines], workdir))


def run_celeryroot(local_play, workdir: Path, book: Path, args: tuple, environ: dict) -> Run:
    out = local_play(book, "-i", "localhost,", *args, env=environ)
    tasks = celeryroot_tasks(out.doc, "localhost")
    statuses = celeryroot_statuses(tasks, "localhost")
    items = [(task_name(t),
              [{"msg": "(skipped)" if r.get("skipped") else r.get("msg"), "label": r.get("_label"), "index": r.get(r.get("ansible_index_var"))}
               for r in t["hosts"]["localhost"].get("results", [])]) for t in tasks]
    return Run(out.rc, statuses, _files(workdir), out.stdout[-3000:] + out.stderr,
               [t["hosts"]["localhost"].get("msg") for t in tasks], _neutral_items(items, workdir))


def _neutral_items(items: list, workdir: Path) -> list:
    return json.loads(json.dumps(items).replace(str(workdir), "WORKDIR"))


def _files(workdir: Path) -> dict:
    """The files under ``out``, each tool's own directory in their contents
    written as ``WORKDIR``."""
    def neutral(content):  # bytes of a file, text of a link, None for a directory
        if isinstance(content, bytes):
            return content.replace(str(workdir).encode(), b"WORKDIR")
        return content.replace(str(workdir), "WORKDIR") if isinstance(content, str) else content

    return {path: (*meta, neutral(content)) for path, (*meta, content) in tree(workdir / "out").items()}


@pytest.fixture
def both(ansible_playbook, local_play, tmp_path):
    """``both(playbook, files={...}, args=(...), book=..., env={...})``: the
    playbook (at ``book``) and the files beside it written to a directory
    for each tool, and run there with ``args`` and ``env`` (where
    ``{workdir}`` is that directory); the two runs are returned, Ansible's
    first. Tasks write under ``{{ out }}``, an extra variable."""

    def run(playbook: str, files: dict | None = None, args: tuple = (), book: str = "book.yml",
            env: dict | None = None) -> tuple[Run, Run]:
        runs = []
        for tool in ("ansible", "celeryroot"):
            workdir = tmp_path / tool
            for rel, text in (files or {}).items():
                write(workdir / rel, text)
            path = write(workdir / book, playbook)
            (workdir / "out").mkdir()
            argv = ("-e", f"out={workdir / 'out'}", *args)
            environ = {k: v.format(workdir=workdir) for k, v in (env or {}).items()}
            if tool == "ansible":
                runs.append(run_ansible(ansible_playbook, workdir, path, argv, environ))
            else:
                runs.append(run_celeryroot(local_play, workdir, path, argv, environ))
        return tuple(runs)

    return run


def same(ansible: Run, celeryroot: Run) -> None:
    assert ansible.rc == 0, ansible
    assert celeryroot.statuses == ansible.statuses, (celeryroot, ansible)
    assert celeryroot.files == ansible.files
    assert celeryroot.rc == ansible.rc, celeryroot


# -- 1. YAML as Ansible reads it: 1.1 whatever the document start says -------

@pytest.mark.parametrize("start", ["---", "--- # modes as Ansible users write them", "%YAML 1.2\n---",
                                   "%YAML 1.1\n---", ""])
def test_yaml_is_read_as_yaml_1_1_whatever_the_document_start(both, start):
    ansible, celeryroot = both(start + """
- hosts: all
  gather_facts: no
  vars:
    flag: on
  tasks:
    - name: a 0640 file
      copy: {content: "a\\n", dest: "{{ out }}/a", mode: 0640}
    - name: a 0644 file
      copy: {content: "b\\n", dest: "{{ out }}/b", mode: 0644}
    - name: a 0440 file
      copy:
        content: "c\\n"
        dest: "{{ out }}/c"
        mode: 0440
    - name: no facts were gathered, and on is true
      assert: {that: ["ansible_facts.distribution is not defined", "flag is sameas true"]}
""")
    same(ansible, celeryroot)
    assert {name: mode[-3:] for name, (mode, *_) in celeryroot.files.items()} == {"a": "640", "b": "644", "c": "440"}


# -- 2. roles found where Ansible finds them --------------------------------

def _writer(name: str) -> str:
    return f'- name: {name}\n  copy: {{content: "{{{{ greeting | default(\'{name}\') }}}}", dest: "{{{{ out }}}}/{name}"}}\n'


def test_galaxy_tests_wrapper_runs_the_role_it_sits_in(both):
    """Galaxy's skeleton: the role's own tests/test.yml names it ``../../``."""
    ansible, celeryroot = both("- hosts: localhost\n  gather_facts: no\n  roles: ['../../']\n",
                               files={"myrole/tasks/main.yml": _writer("from-myrole"),
                                      "myrole/defaults/main.yml": "greeting: hello\n"},
                               book="myrole/tests/test.yml")
    same(ansible, celeryroot)
    assert celeryroot.files["from-myrole"][-1] == b"hello"


def test_roles_are_looked_for_in_ansibles_order(both):
    """roles/ beside the playbook before the roles path, the roles path
    before the playbook's own directory, a dependency beside the role that
    needs it, and a relative path joined to the playbook's directory."""
    ansible, celeryroot = both("""
- hosts: localhost
  gather_facts: no
  roles: [web, common, vendor/parent]
""", files={"roles/web/tasks/main.yml": _writer("web-from-roles-dir"),
            "shelf/web/tasks/main.yml": _writer("web-from-roles-path"),
            "shelf/common/tasks/main.yml": _writer("common-from-roles-path"),
            "common/tasks/main.yml": _writer("common-from-playbook-dir"),
            "vendor/parent/tasks/main.yml": _writer("parent"),
            "vendor/parent/meta/main.yml": "dependencies: [child]\n",
            "vendor/child/tasks/main.yml": _writer("child-beside-parent")},
        env={"ANSIBLE_ROLES_PATH": "{workdir}/shelf"})
    same(ansible, celeryroot)
    assert sorted(celeryroot.files) == ["child-beside-parent", "common-from-roles-path", "parent",
                                        "web-from-roles-dir"]


# -- the text around one expression -----------------------------------------

def test_text_around_one_expression_is_kept_as_ansible_keeps_it(both):
    ansible, celeryroot = both("""
- hosts: localhost
  gather_facts: no
  vars: {motd: hello, n: 7, padded: " {{ n }} ", ended: "{{ n }}\\n"}
  tasks:
    - name: a line
      copy: {content: "{{ motd }}\\n", dest: "{{ out }}/line"}
    - name: a blank line after it
      copy: {content: "{{ motd }}\\n\\n", dest: "{{ out }}/lines"}
    - name: blanks around a number make text, one newline after it does not
      assert:
        that: ["padded == ' 7 '", "ended == 7"]
""")
    same(ansible, celeryroot)
    assert celeryroot.files["line"][-1] == b"hello\n" and celeryroot.files["lines"][-1] == b"hello\n\n"


# -- 3. templates in variables rendered where they are used -----------------

def test_variables_that_are_templates_render_where_they_are_used(both):
    """Role defaults, play vars and extra vars that refer to other variables
    are rendered when a task uses them, with that task's variables: play and
    task vars, playbook_dir, registered results. A result's own text is data,
    never rendered again."""
    ansible, celeryroot = both("""
- hosts: localhost
  gather_facts: no
  vars:
    make_dir: true
    here: "{{ playbook_dir }}/here"
    path: "{{ out }}/{{ leaf }}"
    leaf: play-leaf
  roles: [svc]
  tasks:
    - name: a play var of playbook_dir
      copy: {content: "{{ here }}", dest: "{{ out }}/here"}
    - name: a play var of a task var
      copy: {content: "{{ path }}", dest: "{{ path }}"}
      vars: {leaf: task-leaf}
    - name: braces in a result
      command: echo '{{ "{{" }} make_dir }}'
      register: echoed
      changed_when: false
    - name: an extra var of a registered result, which stays text
      copy: {content: "{{ from_e }}", dest: "{{ out }}/from-e"}
""", files={"roles/svc/defaults/main.yml": "svc_state: \"{{ 'directory' if make_dir else 'absent' }}\"\n",
            "roles/svc/tasks/main.yml": "- name: a role default of a play var\n"
                                        "  file: {path: \"{{ out }}/svc\", state: \"{{ svc_state }}\"}\n"},
       args=("-e", "from_e='{{ echoed.stdout }}'"))
    same(ansible, celeryroot)
    assert celeryroot.files["svc"][3] is None  # a directory
    assert celeryroot.files["task-leaf"][-1] == b"WORKDIR/out/task-leaf"
    assert celeryroot.files["here"][-1] == b"WORKDIR/here"
    assert celeryroot.files["from-e"][-1] == b"{{ make_dir }}"


# -- 4. handlers: notified by handlers, and again after they ran -----------

def test_handlers_notified_by_handlers_and_again_after_they_ran(both):
    """Ansible's flush is one pass over the handlers as defined: a handler
    notified by one defined before it runs in the same pass, one defined
    after it (or itself) at the next flush, which comes after every section
    of the play, empty or not. A handler runs once however often it was
    notified, and again when notified after it ran."""
    ansible, celeryroot = both("""
- hosts: localhost
  gather_facts: no
  tasks:
    - name: change twice
      command: "true"
      notify: [h2, h2]
    - meta: flush_handlers
    - name: change again
      command: "true"
      notify: [h2, reload]
  post_tasks:
    - name: a post task
      command: "true"
      changed_when: false
  handlers:
    - name: h1
      command: "true"
    - name: h2
      command: "true"
      notify: [h1, h3]
    - name: h3
      command: "true"
      notify: h3
    - name: first listener
      command: "true"
      listen: reload
    - name: second listener
      command: "true"
      listen: reload
""")
    same(ansible, celeryroot)


# -- 5. ~ and ~user in paths -------------------------------------------------

@pytest.fixture
def home_user(tmp_path):
    """A user of the test's own whose home is the test's directory, so
    ``~NAME/ansible`` and ``~NAME/celeryroot`` are each tool's directory."""
    if os.geteuid() != 0:
        pytest.skip("creating a user whose home is a test directory needs root")
    name = f"crhome{os.getpid() % 100000}"
    subprocess.run(["useradd", "-M", "-d", str(tmp_path), "-s", "/usr/sbin/nologin", name], check=True)
    yield name
    subprocess.run(["userdel", name], check=True)


def test_tilde_paths_expand_on_the_host(both, home_user):
    """``~`` is the home of the user the module runs as, ``~NAME`` NAME's:
    in file, copy, template and lineinfile, in path, dest and a host-side
    src (Ansible's type=path)."""
    ansible, celeryroot = both(f"""
- hosts: localhost
  gather_facts: no
  vars:
    here: "~{home_user}/{{{{ out | dirname | basename }}}}/out"
  tasks:
    - name: a directory in a home
      file: {{path: "{{{{ here }}}}/dir", state: directory}}
    - name: copy there
      copy: {{content: "copied\\n", dest: "{{{{ here }}}}/dir/copied"}}
    - name: copy from there on the host
      copy: {{src: "{{{{ here }}}}/dir/copied", remote_src: true, dest: "{{{{ here }}}}/dir/again"}}
    - name: template there
      template: {{src: t.j2, dest: "{{{{ here }}}}/dir/templated"}}
    - name: lineinfile there
      lineinfile: {{path: "{{{{ here }}}}/dir/lines", line: one, create: true}}
    - name: a link there
      file: {{src: "{{{{ here }}}}/dir/copied", path: "{{{{ here }}}}/dir/link", state: link}}
    - name: my own home is there already
      file: {{path: "~", state: directory}}
""", files={"t.j2": "templated\n"})
    same(ansible, celeryroot)
    assert sorted(celeryroot.files) == ["dir", "dir/again", "dir/copied", "dir/lines", "dir/link", "dir/templated"]
    assert celeryroot.files["dir/link"][-1] == "WORKDIR/out/dir/copied"


# -- 6. ansible_check_mode and ansible_managed --------------------------------

@pytest.mark.parametrize("args", [(), ("--check",)], ids=["run", "check"])
def test_check_mode_variable_is_the_runs_and_ansible_managed_is_ansibles(both, args):
    """A play's check_mode: keyword runs its tasks in check mode, but
    ansible_check_mode says only whether --check was given; a template's
    ansible_managed is Ansible's own text."""
    ansible, celeryroot = both("""
- hosts: localhost
  gather_facts: no
  check_mode: true
  tasks:
    - name: predicted only
      file: {path: "{{ out }}/never", state: directory}
    - name: written whatever the play says
      copy: {content: "check mode: {{ ansible_check_mode }}\\n", dest: "{{ out }}/check"}
      check_mode: false
    - name: a managed template
      template: {src: managed.j2, dest: "{{ out }}/managed"}
      check_mode: false
""", files={"templates/managed.j2": "# {{ ansible_managed }}\n"}, args=args)
    same(ansible, celeryroot)
    assert celeryroot.files["check"][-1] == f"check mode: {bool(args)}\n".encode()
    assert celeryroot.files["managed"][-1] == b"# Ansible managed\n"


# -- 7. replace and blockinfile leave the files Ansible leaves ---------------

EDITED = {
    "conf": "a=1\n[x]\nb=1\nc=1\n[y]\nb=1\n",
    "hosts": "127.0.0.1 localhost\n10.0.0.1 old.example.com old\n",
    "nonl": "a\nb",
    "twice": "a\nb\nc\na\nb\nd\n",
    "marked": "x\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\ny\n",
    "half": "x\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n",
    "gone": "x\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\n",
}


@pytest.mark.parametrize("args", [(), ("--check",)], ids=["run", "check"])
def test_replace_and_blockinfile_edit_files_as_ansible_does(both, args):
    """Each tool edits copies of the same files, twice (the second time
    changes nothing); statuses and the files' contents are the same. The
    copies are made in check mode too: Ansible's check would fail on the
    files that are not there (ansible#82048)."""
    copies = "".join(f"    - copy: {{src: {name}, dest: \"{{{{ out }}}}/{name}\"}}\n      check_mode: false\n"
                     for name in EDITED)
    edits = """
    - name: a section between after and before
      replace: {path: "{{ out }}/conf", regexp: '^b=1$', replace: b=2, after: '\\[x\\]', before: '\\[y\\]'}
    - name: backreferences
      replace: {path: "{{ out }}/hosts", regexp: '(\\s+)old\\.example\\.com(\\s+.*)?$', replace: '\\1new.example.com\\2'}
    - name: after that matches nothing
      replace: {path: "{{ out }}/conf", regexp: c, replace: C, after: nowhere}
    - name: removing matches
      replace: {path: "{{ out }}/twice", regexp: '^d\\n'}
    - name: a block at the end of a file without a final newline
      blockinfile: {path: "{{ out }}/nonl", block: "x\\ny\\n"}
    - name: a block after the last match
      blockinfile: {path: "{{ out }}/twice", block: "after", insertafter: '^b', marker: "# {mark} one"}
    - name: a block before the first multiline match
      blockinfile: {path: "{{ out }}/twice", block: "before", insertbefore: '(?m)^a\\nb$', marker: "# {mark} two"}
    - name: blank lines around
      blockinfile: {path: "{{ out }}/twice", block: "spaced", insertafter: '^c', marker: "# {mark} three",
                    prepend_newline: true, append_newline: true}
    - name: a block replaced in place
      blockinfile: {path: "{{ out }}/marked", block: "new"}
    - name: only one marker
      blockinfile: {path: "{{ out }}/half", block: "new"}
    - name: a block removed
      blockinfile: {path: "{{ out }}/gone", state: absent}
    - name: created with an empty block
      blockinfile: {path: "{{ out }}/empty", block: "", create: true}
    - name: absent from a missing file
      blockinfile: {path: "{{ out }}/never", state: absent, create: true}
    - name: created in a new directory
      blockinfile: {path: "{{ out }}/new/dir/file", block: "at BOF", insertbefore: BOF, create: true}
"""
    book = ("- hosts: localhost\n  gather_facts: no\n  tasks:\n" + copies +
            edits.replace("    - name: ", "    - name: first ") + edits.replace("    - name: ", "    - name: second "))
    ansible, celeryroot = both(book, files=dict(EDITED), args=args)
    same(ansible, celeryroot)
    if not args:
        assert celeryroot.files["conf"][-1] == b"a=1\n[x]\nb=2\nc=1\n[y]\nb=1\n"
        assert [s for kind, task, s in celeryroot.statuses if task.startswith("second ")] == ["ok"] * 14


# -- 8. what stat, find, slurp and getent return, as playbooks read it -------

def test_looking_modules_return_what_ansible_returns(both):
    """Registered results and facts written into a file by each tool: the
    keys playbooks read, with the values Ansible gives them."""
    ansible, celeryroot = both("""
- hosts: localhost
  gather_facts: no
  tasks:
    - file: {path: "{{ out }}/d", state: directory}
    - file: {path: "{{ out }}/d/sub", state: directory, mode: "0750"}
    - copy: {content: "hello\\n", dest: "{{ out }}/d/a.txt", mode: "0640"}
    - copy: {content: "x hello\\n", dest: "{{ out }}/d/sub/b.log"}
    - file: {src: a.txt, path: "{{ out }}/d/link", state: link}
    - stat: {path: "{{ out }}/d/a.txt"}
      register: file
    - stat: {path: "{{ out }}/d/link"}
      register: link
    - stat: {path: "{{ out }}/d/nothing"}
      register: nothing
    - find: {paths: "{{ out }}/d", recurse: true, patterns: "*.txt,*.log", contains: hello}
      register: found
    - find: {paths: "{{ out }}/d", file_type: any}
      register: everything
    - slurp: {src: "{{ out }}/d/a.txt"}
      register: slurped
    - getent: {database: passwd, key: root}
    - getent: {database: group, key: root}
    - name: what they said
      copy:
        dest: "{{ out }}/said"
        content: |
          {{ [file.stat.exists, file.stat.isreg, file.stat.isdir, file.stat.islnk, file.stat.mode, file.stat.size,
              file.stat.pw_name, file.stat.gr_name, file.stat.uid, file.stat.checksum, file.stat.rusr,
              file.stat.woth] }}
          {{ [link.stat.islnk, link.stat.lnk_target, link.stat.lnk_source, nothing.stat] }}
          {{ [found.matched, found.examined, found.files | map(attribute='path') | list] }}
          {{ [everything.matched, everything.examined, everything.msg, everything.skipped_paths] }}
          {{ [slurped.encoding, slurped.content, slurped.source] }}
          {{ [getent_passwd.root[:5], ansible_facts.getent_group.root[1]] }}
""")
    same(ansible, celeryroot)
    said = celeryroot.files["said"][-1].decode().splitlines()
    assert said[2] == "[1, 4, ['WORKDIR/out/d/a.txt']]", said
    assert said[4] == "['base64', 'aGVsbG8K', 'WORKDIR/out/d/a.txt']", said


def debug_messages(run: Run, names: set[str] = frozenset({"debug"})) -> list:
    """What each debug task (of these names) that ran said, in order (the
    tools word other results' and skipped tasks' msg differently)."""
    return [m for (_, task, status), m in zip(run.statuses, run.messages) if task in names and status != "skipped"]


# -- 9. include_vars: files, folders, names, and where they rank ------------

def test_include_vars_loads_files_and_folders_as_ansible_does(both):
    """A file (free-form and ``file:``), a folder (``depth``,
    ``files_matching``, ``name``), and a file named by a fact-like
    variable: the variables rank above task vars and below set_fact, their
    templates render where they are used, and they outlive the play."""
    ansible, celeryroot = both("""
- hosts: localhost
  gather_facts: no
  vars:
    a: play
  tasks:
    - include_vars: common.yml
    - debug: msg="{{ a }} {{ b }}"
    - debug: msg="{{ a }}"
      vars: {a: task}
    - set_fact: {a: set-fact}
    - include_vars: {file: common.yml}
    - debug: msg="{{ a }}"
    - include_vars: {dir: vars/site, depth: 1, name: site}
    - debug: msg="{{ site }}"
    - include_vars: {dir: vars/site, files_matching: "^t"}
    - debug: msg="{{ d }} {{ e }}"
    - include_vars: "{{ inventory_hostname }}.yml"
- hosts: localhost
  gather_facts: no
  tasks:
    - debug: msg="{{ own }} {{ site.f }}"
    - include_vars: {dir: vars/site, name: whole, ignore_files: ["one.yml"]}
    - copy: {content: "{{ whole | to_nice_json }}", dest: "{{ out }}/whole"}
""", files={"vars/common.yml": "a: from-file\nb: \"{{ a }}-templated\"\n",
            "vars/site/one.yml": "c: 1\n", "vars/site/two.yaml": "d: 2\n", "vars/site/sub/three.yml": "e: 3\n",
            "vars/site/four.json": '{"f": 4}\n', "vars/localhost.yml": "own: mine\n"})
    same(ansible, celeryroot)
    shown = debug_messages(celeryroot)
    assert shown == debug_messages(ansible)
    assert shown[:3] == ["from-file from-file-templated", "from-file", "set-fact"], shown  # above task vars
    assert celeryroot.files["whole"][-1] == ansible.files["whole"][-1]


# -- 10. import_playbook with vars, when and tags ------------------------------

INNER_PLAYBOOK = """
- hosts: localhost
  vars: {greeting: own, shared: own}
  tasks:
    - debug: msg="{{ greeting }} {{ shared }}"
      notify: h
      changed_when: true
    - debug: msg="{{ ansible_facts.distribution is defined }}"
  handlers:
    - name: h
      debug: msg=handler
- import_playbook: nested.yml
  vars: {greeting: nested-import}
"""


@pytest.mark.parametrize("args", [(), ("--skip-tags", "imp")])
def test_import_playbook_vars_when_and_tags_reach_every_imported_play(both, args):
    """An import's vars outrank its plays' own (an outer import's win over
    an inner one's), its ``when`` skips their facts gathering and tasks but
    not their handlers, and its tags are theirs."""
    ansible, celeryroot = both("""
- import_playbook: inner.yml
  vars: {greeting: from-import, shared: import}
- import_playbook: inner.yml
  when: false
- import_playbook: inner.yml
  when: flag | default(true)
  vars: {greeting: second}
  tags: [imp]
""", files={"inner.yml": INNER_PLAYBOOK,
            "nested.yml": "- hosts: localhost\n  gather_facts: no\n  tasks:\n    - debug: msg=\"{{ greeting }}\"\n"},
       args=args)
    same(ansible, celeryroot)
    shown = debug_messages(celeryroot)
    assert shown == debug_messages(ansible)
    assert "from-import import" in shown and ("second own" in shown) == (not args), shown


# -- 11. meta: clear_facts, refresh_inventory, end_host, end_play --------------

def test_meta_actions_end_and_clear_as_ansibles_do(both):
    """clear_facts forgets gathered facts (set_fact values stay);
    refresh_inventory changes nothing here; end_host and end_play end the
    play (its post_tasks and notified handlers too) and the next play runs;
    a meta whose ``when`` is false is skipped."""
    ansible, celeryroot = both("""
- hosts: localhost
  gather_facts: yes
  tasks:
    - set_fact: {mine: kept}
    - debug: msg="{{ ansible_facts.distribution is defined }} {{ ansible_distribution is defined }}"
    - meta: clear_facts
    - debug: msg="{{ ansible_facts.distribution is defined }} {{ ansible_distribution is defined }} {{ mine }}"
    - meta: refresh_inventory
    - command: "true"
      notify: h
    - meta: end_host
      when: false
    - debug: msg=after-skipped-end-host
    - meta: end_host
      when: mine == 'kept'
    - debug: msg=never
  post_tasks:
    - debug: msg=never-post
  handlers:
    - name: h
      debug: msg=handler
- hosts: localhost
  gather_facts: no
  tasks:
    - debug: msg="second play {{ mine }}"
    - meta: end_play
    - debug: msg=never
- hosts: localhost
  gather_facts: no
  tasks:
    - debug: msg="third play"
""")
    same(ansible, celeryroot)
    shown = debug_messages(celeryroot)
    assert shown == debug_messages(ansible)
    assert shown == ["True True", "False False kept", "after-skipped-end-host", "second play kept", "third play"]


# -- 12. include_tasks and include_role when they run: loops, names, apply -----

DYNAMIC_INCLUDES = """
- hosts: localhost
  gather_facts: no
  tasks:
    - include_tasks: tasks/item.yml
      loop: [a, b]
      loop_control: {loop_var: who}
      vars: {extra: x}
    - command: echo localhost
      register: r
      changed_when: false
    - include_tasks: "tasks/{{ r.stdout }}.yml"
    - include_tasks: "tasks/{{ r.stdout }}.yml"
      when: r.stdout == 'nothing'
    - include_tasks:
        file: tasks/item.yml
        apply:
          tags: [applied]
          when: who != 'c'
      loop: [c, d]
      loop_control: {loop_var: who, index_var: i}
      tags: [applied]
    - name: a role's file named by a result
      include_role:
        name: web
        tasks_from: "{{ r.stdout }}"
      vars: {web_port: 81}
    - name: a role in a loop
      include_role: {name: web}
      loop: [1, 2]
"""


@pytest.mark.parametrize("args", [(), ("--tags", "applied")])
def test_includes_that_loop_or_need_the_run_include_when_they_run(both, args):
    """Loops (``loop_var``, ``index_var``), files named by a registered
    result, ``apply`` (tags and a condition on the included tasks, not the
    include), the include's own ``when`` and tags, include_role with a loop
    and a ``tasks_from`` of a result: the same results and recap as Ansible's."""
    ansible, celeryroot = both(DYNAMIC_INCLUDES, files={
        "tasks/item.yml": "- name: in item\n  debug: msg=\"{{ who }} {{ extra | default('-') }}\"\n"
                          "- name: tagged inside\n  debug: msg=\"tagged {{ who }}\"\n  tags: [inner]\n",
        "tasks/localhost.yml": "- name: by host\n  debug: msg=\"host file\"\n",
        "roles/web/defaults/main.yml": "web_port: 80\n",
        "roles/web/tasks/main.yml": "- name: web main\n  debug: msg=\"main {{ web_port }} {{ item }}\"\n",
        "roles/web/tasks/localhost.yml": "- name: web host\n  debug: msg=\"host {{ web_port }}\"\n"}, args=args)
    same(ansible, celeryroot)
    shown = debug_messages(celeryroot, {"in item", "tagged inside", "by host", "web host", "web main"})
    assert shown == debug_messages(ansible, {"in item", "tagged inside", "by host", "web host", "web main"})
    if not args:
        assert shown == ["a x", "tagged a", "b x", "tagged b", "host file", "d -", "tagged d", "host 81",
                         "main 80 1", "main 80 2"], shown
