"""Every ``with_*`` loop and lookup, run by ansible-playbook and by
celeryroot on the same playbook (tests/test_differential.py's helpers): the
same tasks with the same statuses, and each loop item saying the same
``msg`` with the same label and index; a role's tasks look in the role
first. One Ansible run for them all."""

from __future__ import annotations

from test_differential import ansible_playbook, both  # noqa: F401 (fixtures)

FILES = {
    "files/hello.txt": "hello\n\n",
    "files/alpha.txt": "A\n",
    "files/beta.txt": "B\n",
    "files/people.csv": "name,uid,shell\nalice,1,/bin/sh\nbob,2,/bin/bash\n",
    "files/app.ini": "[db]\nport = 5432\nuser=admin\n[web]\nport=80\n",
    "files/app.properties": "colour=blue\n",
    "templates/t.j2": "Hi {{ who }}\n",
    "roles/r/files/alpha.txt": "role A\n",
    "roles/r/templates/t.j2": "role Hi {{ who }}\n",
    "roles/r/tasks/main.yml": """
- name: a role's files first
  debug: {msg: "{{ item }}"}
  with_file: [alpha.txt, beta.txt]
- name: a role's templates first
  debug: {msg: "{{ item }}"}
  with_template: [t.j2]
- name: a role's first_found and fileglob
  debug: {msg: "{{ item | replace(playbook_dir, 'PLAYBOOK') }}"}
  loop:
    - "{{ lookup('first_found', ['files/alpha.txt']) }}"
    - "{{ query('fileglob', '*.txt') | sort }}"
""",
}

PLAYBOOK = r"""
- hosts: all
  gather_facts: no
  vars:
    fruits: [apple, [banana, cherry]]
    users: {alice: {uid: 1}, bob: {uid: 2}}
    people:
      - {name: alice, keys: [k1, k2]}
      - {name: bob, keys: [k3]}
      - {name: carol}
    letters: [a, b]
    numbers: [1, 2, 3]
    who: world
  roles: [r]
  tasks:
    - name: with_items
      debug: {msg: "{{ item }}"}
      with_items: "{{ fruits }}"
    - name: with_items of a static list
      debug: {msg: "{{ item }}"}
      with_items: [x, [y, z], "{{ letters }}"]
    - name: with_list
      debug: {msg: "{{ item }}"}
      with_list: [[1, 2], 3]
    - name: with_dict
      debug: {msg: "{{ item.key }}={{ item.value.uid }}"}
      with_dict: "{{ users }}"
      loop_control: {label: "{{ item.key }}"}
    - name: with_sequence
      debug: {msg: "{{ item }}"}
      with_sequence: start=1 end=9 stride=3 format=host%02d
    - name: with_sequence shortcut
      debug: {msg: "{{ item }}"}
      with_sequence: "4-8/2"
    - name: with_sequence count
      debug: {msg: "{{ item }}"}
      with_sequence: count=3
    - name: with_sequence of a zero-led start and a negative stride
      debug: {msg: "{{ item }}"}
      with_sequence: start=012 end=010 stride=-1
    - name: with_nested
      debug: {msg: "{{ item[0] }}{{ item[1] }}"}
      with_nested: [[a, b], "{{ numbers }}"]
    - name: with_together
      debug: {msg: "{{ item }}"}
      with_together: ["{{ letters }}", "{{ numbers }}"]
      loop_control: {index_var: i}
    - name: with_subelements
      debug: {msg: "{{ item.0 | to_json }}:{{ item.1 }}"}
      with_subelements: ["{{ people }}", keys, {skip_missing: true}]
      loop_control: {label: "{{ item.0.name }}"}
    - name: with_fileglob
      debug: {msg: "{{ item | basename }}"}
      with_fileglob: ["al*.txt", "be*.txt", "none*"]
    - name: with_first_found
      debug: {msg: "{{ item | basename }}"}
      with_first_found: [nope.txt, {files: [nope2, beta.txt], paths: [files]}]
    - name: with_lines
      debug: {msg: "{{ item }}"}
      with_lines: "printf 'one\\ntwo\\n'"
    - name: with_random_choice
      debug: {msg: "{{ item }}"}
      with_random_choice: [only]
    - name: with_indexed_items
      debug: {msg: "{{ item.0 }}:{{ item.1 }}"}
      with_indexed_items: "{{ letters }}"
    - name: with_inventory_hostnames
      debug: {msg: "{{ item }}"}
      with_inventory_hostnames: all
    - name: with_file and a when on the index
      debug: {msg: "{{ item }}"}
      with_file: [hello.txt, alpha.txt]
      loop_control: {index_var: n}
      when: n > 0
    - name: with_template
      debug: {msg: "{{ item }}"}
      with_template: t.j2
    - name: with_vars
      debug: {msg: "{{ item }}"}
      with_vars: [who, letters]
    - name: lookups
      debug: {msg: "{{ value }}"}
      loop_control: {index_var: n, loop_var: value}
      loop:
        - "{{ lookup('pipe', 'echo hi; echo there') }}"
        - "{{ lookup('items', fruits) }}"
        - "{{ lookup('items', letters) }}"
        - "{{ query('items', fruits) }}"
        - "{{ lookup('list', 'a', 'b') }}"
        - "{{ lookup('list', []) }}"
        - "{{ q('dict', users) }}"
        - "{{ lookup('vars', 'who') }}"
        - "{{ query('vars', 'letters', 'numbers') }}"
        - "{{ lookup('vars', 'nope', default='dflt') }}"
        - "{{ lookup('env', 'LK_SET') }}"
        - "{{ lookup('env', 'LK_UNSET', default='dflt') }}"
        - "{{ lookup('file', 'hello.txt') }}"
        - "{{ lookup('file', 'hello.txt', rstrip=false) }}"
        - "{{ lookup('file', 'nope.txt', errors='ignore') is none }}"
        - "{{ query('file', 'nope.txt', errors='warn') }}"
        - "{{ lookup('template', 't.j2') }}"
        - "{{ lookup('template', 't.j2', template_vars={'who': 'you'}) }}"
        - "{{ lookup('first_found', ['nope', 'files/hello.txt']) | basename }}"
        - "{{ query('first_found', 'nope', skip=true) }}"
        - "{{ lookup('fileglob', 'al*.txt') | basename }}"
        - "{{ lookup('csvfile', 'bob', file='people.csv', delimiter=',', col=2) }}"
        - "{{ lookup('csvfile', 'zed', file='people.csv', delimiter=',', default='none') }}"
        - "{{ lookup('ini', 'port', section='db', file='app.ini') }}"
        - "{{ lookup('ini', 'colour', type='properties', file='app.properties') }}"
        - "{{ query('ini', 'p.*', section='web', file='app.ini', re=true) }}"
        - "{{ query('lines', 'printf \"a\\nb\"') }}"
        - "{{ query('sequence', 'start=2 end=4') }}"
        - "{{ lookup('sequence', 'count=2', wantlist=true) }}"
        - "{{ query('subelements', people, 'keys', {'skip_missing': true}) | length }}"
        - "{{ query('together', letters, numbers) }}"
        - "{{ query('nested', letters, numbers) }}"
        - "{{ query('indexed_items', letters) }}"
        - "{{ lookup('random_choice', 'only') }}"
        - "{{ query('inventory_hostnames', 'all') }}"
        - "{{ query('varnames', '^lett') }}"
        - "{{ lookup('password', out ~ '/pw length=12 chars=digits') | length }}"
        - "{{ lookup('password', out ~ '/pw') == lookup('file', out ~ '/pw') }}"
"""


def test_every_with_loop_and_lookup_says_what_ansibles_says(both):
    ansible, celeryroot = both(PLAYBOOK, files=FILES, env={"LK_SET": "yes"})
    assert ansible.rc == 0, ansible
    assert celeryroot.statuses == ansible.statuses, (celeryroot, ansible)
    for (task, theirs), (_, ours) in zip(ansible.items, celeryroot.items):
        assert ours == theirs, task
    assert len(celeryroot.items) == len(ansible.items) == 24
    # The password file: made on the controller, readable by its owner only, as Ansible's.
    assert celeryroot.files["pw"][0] == ansible.files["pw"][0]
    assert celeryroot.files["pw"][0].endswith("600") and len(celeryroot.files["pw"][-1]) == 13
