"""End to end on three fresh hosts: a web and a db play with packages from
the hosts' repository, templates, services and handlers. --check on the
fresh hosts predicts and changes nothing; the real run's recap is exact;
the second run is all ok. The baseline playbook's --check runs there too."""

from __future__ import annotations

from conftest import ROOT, Play, write
from hosts.debs import add_source, answer, build
from hosts.fixtures import fleet_of

hosts = fleet_of("web1", "web2", "db1")
GROUPS = {"web": ["web1", "web2"], "db": ["db1"]}
PACKAGE_PORTS = {"crtest-web": 7401, "crtest-db": 7501}

SITE = """
- name: web servers
  hosts: web
  vars:
    web_port: 8080
  tasks:
    - name: web packages
      apt: name=crtest-web,crtest-app update_cache=yes cache_valid_time=3600
    - name: web settings
      template: src=templates/service.j2 dest=/etc/default/crtest-web mode=0644
      vars: {port: "{{ web_port }}"}
      notify: restart web
    - name: web service
      service: name=crtest-web state=started enabled=yes
  handlers:
    - name: restart web
      service: name=crtest-web state=restarted

- name: database
  hosts: db
  tasks:
    - name: db package
      apt: name=crtest-db
    - name: db settings
      template: src=templates/service.j2 dest=/etc/default/crtest-db mode=0600
      vars: {port: 5432}
      notify: restart db
    - name: db service
      service: name=crtest-db state=started enabled=yes
  handlers:
    - name: restart db
      systemd: name=crtest-db state=restarted
"""

TEMPLATE = """# {{ ansible_managed }} ({{ ansible_hostname }})
PORT={{ port }}
"""


def site(tmp_path):
    write(tmp_path / "templates/service.j2", TEMPLATE)
    return write(tmp_path / "site.yaml", SITE)


def host_state(fleet) -> dict:
    """What the play manages, read inside each host."""
    state = {}
    for name, host in fleet.hosts.items():
        pkgs = host.run("dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", "crtest-*", check=False).stdout
        files = host.run("sh", "-c", "cat /etc/default/crtest-* 2>/dev/null", check=False).stdout
        units = host.run("systemctl", "is-active", "crtest-web", "crtest-db", check=False).stdout
        state[name] = (pkgs, files, units)
    return state


def prepare(fleet, tmp_path):
    pool = build(tmp_path / "repo", PACKAGE_PORTS)
    for host in fleet.hosts.values():
        if not host.exists("/etc/apt/sources.list.d/crtest.list"):
            add_source(host, pool)
    return Play(fleet.broker.url, tmp_path), fleet.inventory(tmp_path / "inventory.yaml", GROUPS)


def test_check_on_fresh_hosts_predicts_and_changes_nothing(hosts, tmp_path):
    play, inventory = prepare(hosts, tmp_path)
    before = host_state(hosts)
    checked = play(site(tmp_path), "--check", inventory=inventory)
    assert checked.rc == 0 and checked.total("failed") == 0, checked
    for task in ("web packages", "web settings", "web service", "restart web"):
        assert all(r["changed"] for r in checked.results(task).values()), (task, checked.results(task))
    assert set(checked.results("restart db")) == {"db1"}
    assert host_state(hosts) == before, "--check changed a host"

    base = play(ROOT / "playbooks/base.yaml", "--check", inventory=inventory)
    assert base.rc == 0 and base.total("failed") == base.total("unreachable") == 0, base
    assert all(r["changed"] for r in base.results("the operations user exists").values()), base
    for host in hosts.hosts.values():
        assert host.run("id", "ops", check=False).returncode != 0, "--check created the user"


def test_site_recap_then_second_run_all_ok(hosts, tmp_path):
    play, inventory = prepare(hosts, tmp_path)
    book = site(tmp_path)
    first = play(book, inventory=inventory)
    assert first.rc == 0, first
    # facts, packages, settings, the service (its postinst started it), the handler
    expected = {"ok": 5, "changed": 3, "failed": 0, "unreachable": 0, "skipped": 0}
    for name in hosts.hosts:
        assert {k: first.stats[name][k] for k in expected} == expected, (name, first.stats)
    for name in GROUPS["web"]:
        host = hosts.hosts[name]
        assert answer(host, 8080).startswith("crtestd pid="), "the handler restarted it on the new port"
        assert answer(host, PACKAGE_PORTS["crtest-web"]) == ""
        settings = host.run("cat", "/etc/default/crtest-web").stdout
        assert settings.endswith(f" ({name})\nPORT=8080\n"), "rendered with the host's own facts"
        assert not host.exists("/etc/default/crtest-db")
    db = hosts.hosts["db1"]
    assert answer(db, 5432).startswith("crtestd pid=")
    assert db.run("stat", "-c", "%a", "/etc/default/crtest-db").stdout.strip() == "600"

    again = play(book, inventory=inventory)
    assert again.rc == 0 and again.total("changed") == 0 and again.total("failed") == 0, again
    assert "restart web" not in str(again.doc["plays"]), "no handler runs when nothing changed"
