"""Inventories: host patterns, YAML and INI, several sources, vars directories."""

import pytest
from conftest import write

from celeryroot.lang.inventories import load_inventory
from celeryroot.lang.inventory_ini import expand_range, parse_value
from celeryroot.lang.source import InputError, Where

YAML = """
all:
  vars:
    tier: none
    ntp: pool.ntp.org
  hosts:
    lonely:
      a: 1
  children:
    prod:
      vars:
        tier: prod
      children:
        web:
          vars:
            http_port: 8080
          hosts:
            web01: {http_port: 80, flag: "yes"}
            web02:
            web03:
        db:
          hosts:
            db-a.example.com:
            db-b.example.com:
              ansible_port: 2222
"""

INI = """
# the same inventory, in Ansible's INI format
lonely a=1
[web]
web[01:03]
[web:vars]
http_port=8080
[db]
db-a.example.com
db-b.example.com:2222
[prod:children]
web
db
[prod:vars]
tier=prod
[all:vars]
tier=none
ntp=pool.ntp.org
"""

INI_HOST_VARS = "[web]\nweb01 http_port=80 flag=yes\n"


@pytest.fixture
def yaml_inventory(tmp_path):
    return load_inventory([str(write(tmp_path / "inventory.yaml", YAML))])


@pytest.mark.parametrize("pattern, hosts", [
    ("all", ["lonely", "web01", "web02", "web03", "db-a.example.com", "db-b.example.com"]),
    ("*", ["lonely", "web01", "web02", "web03", "db-a.example.com", "db-b.example.com"]),
    ("web", ["web01", "web02", "web03"]),
    ("web02", ["web02"]),
    ("ungrouped", ["lonely"]),
    ("web0[13]", ["web01", "web03"]),
    ("db-*", ["db-a.example.com", "db-b.example.com"]),
    (r"~web0[12]$", ["web01", "web02"]),
    ("web:db", ["web01", "web02", "web03", "db-a.example.com", "db-b.example.com"]),
    ("db,web01", ["db-a.example.com", "db-b.example.com", "web01"]),
    ("all:&prod", ["web01", "web02", "web03", "db-a.example.com", "db-b.example.com"]),
    ("web:&web0[23]", ["web02", "web03"]),
    ("prod:!db", ["web01", "web02", "web03"]),
    ("all:!prod", ["lonely"]),
    ("web:db:&~.*b$:!web01", ["web02", "web03", "db-a.example.com", "db-b.example.com"]),
    (["web01", "db-a.example.com"], ["web01", "db-a.example.com"]),
])
def test_patterns(yaml_inventory, pattern, hosts):
    assert yaml_inventory.match(pattern) == hosts


@pytest.mark.parametrize("pattern", ["nosuch", "web:nosuch", "all:!nosuch", "~^zz", "zz*"])
def test_pattern_matching_nothing_is_an_error(yaml_inventory, pattern):
    with pytest.raises(InputError, match="matches no host or group"):
        yaml_inventory.match(pattern, Where("play.yaml", 3, 5))


def test_yaml_and_ini_are_the_same_inventory(tmp_path):
    from_yaml = load_inventory([str(write(tmp_path / "a" / "inventory.yaml", YAML))])
    ini_files = [str(write(tmp_path / "b" / "hosts", INI)), str(write(tmp_path / "b" / "more.ini", INI_HOST_VARS))]
    from_ini = load_inventory(ini_files)
    assert set(from_yaml.groups) == set(from_ini.groups)
    for name in from_yaml.groups:
        assert from_yaml.group_hosts(name) == from_ini.group_hosts(name), name
    assert list(from_yaml.hosts) == list(from_ini.hosts)
    for host in from_yaml.hosts:
        assert from_yaml.host_vars(host) == from_ini.host_vars(host), host
        assert from_yaml.groups_of(host) == from_ini.groups_of(host), host
    assert from_ini.host_vars("web01") == {"tier": "prod", "ntp": "pool.ntp.org", "http_port": 80, "flag": "yes"}


def test_sources_merge_in_order(tmp_path):
    first = write(tmp_path / "one" / "hosts.ini", "web01 role=old\nspare\n[db]\ndb01\n[db:vars]\nsize=small\n")
    second = write(tmp_path / "two" / "more.yaml", """
all:
  children:
    web:
      hosts:
        web01: {role: new}
        web02:
    db:
      vars: {engine: postgres}
      hosts:
        db02:
""")
    inv = load_inventory([str(first), str(second)])
    assert inv.match("web") == ["web01", "web02"]
    assert inv.match("db") == ["db01", "db02"]
    assert inv.match("ungrouped") == ["spare"]  # web01 found a group in the second source
    assert inv.host_vars("web01") == {"role": "new"}
    assert inv.host_vars("db01") == {"size": "small", "engine": "postgres"}
    assert inv.source == f"{first}, {second}"


def test_host_list_and_directory_sources(tmp_path):
    folder = tmp_path / "inv"
    write(folder / "10-web.ini", "[web]\nweb01\n")
    write(folder / "20-db.yaml", "db:\n  hosts:\n    db01:\n")
    write(folder / "README.md", "not an inventory: [ignored\n")
    write(folder / "group_vars" / "web.yml", "port: 80\n")
    inv = load_inventory([str(folder), "extra1,extra2,"])
    assert inv.all_hosts() == ["extra1", "extra2", "web01", "db01"]
    assert inv.host_vars("web01") == {"port": 80}


def test_vars_directories_outrank_inventory_files_as_in_ansible(tmp_path):
    write(tmp_path / "hosts.ini", "[web]\nweb01 x=host_file\nweb02\n[db]\ndb01\n[prod:children]\nweb\ndb\n"
                                  "[prod:vars]\nx=prod_file\nlevel=prod_file\n[web:vars]\nx=web_file\n"
                                  "[all:vars]\nx=all_file\nonly_all=all_file\n")
    write(tmp_path / "group_vars" / "all.yml", "x: all_dir\nonly_all: all_dir\n")
    write(tmp_path / "group_vars" / "prod.yaml", "x: prod_dir\n")
    write(tmp_path / "group_vars" / "db" / "10-a.yml", "x: db_dir_a\nsize: 1\n")
    write(tmp_path / "group_vars" / "db" / "20-b.json", '{"size": 2}\n')
    write(tmp_path / "host_vars" / "web02.yml", "level: host_dir\n")
    write(tmp_path / "host_vars" / "web01", "x: host_dir\n")
    inv = load_inventory([str(tmp_path / "hosts.ini")])
    # The files' group vars (even a child's) rank below any group_vars/ file.
    assert inv.host_vars("web02") == {"x": "prod_dir", "level": "host_dir", "only_all": "all_dir"}
    assert inv.host_vars("web01")["x"] == "host_dir"
    assert inv.host_vars("db01") == {"x": "db_dir_a", "level": "prod_file", "only_all": "all_dir", "size": 2}


def test_playbook_vars_directory_after_the_inventorys_wins(tmp_path):
    from celeryroot.lang.inventories import load_vars_dirs

    write(tmp_path / "inv" / "hosts", "[web]\nweb01\n")
    write(tmp_path / "inv" / "group_vars" / "web.yml", "x: inventory_dir\nkept: inventory_dir\n")
    write(tmp_path / "book" / "group_vars" / "web.yml", "x: playbook_dir\n")
    inv = load_inventory([str(tmp_path / "inv" / "hosts")])
    load_vars_dirs(inv, tmp_path / "book")
    assert inv.host_vars("web01") == {"x": "playbook_dir", "kept": "inventory_dir"}


@pytest.mark.parametrize("text, line, message", [
    ("[web]\nweb01\n[web:hosts]\nweb02\n[web:bogus]\n", 5, "unknown type 'bogus'"),
    ("[web]\nweb01\n[prod:children]\nweb\napp\n", 5, "names group 'app', which is never declared"),
    ("[web]\nweb01\n\n[db:vars]\nx=1\n", 4, "section [db:vars] is for group 'db'"),
    ("[web]\nweb01 novalue\n", 2, "expected key=value host variable, got 'novalue'"),
    ("[web]\nweb01 x='unterminated\n", 2, "cannot parse host line"),
    ("[web]\n\n  web[3:1]\n", 3, "is empty"),
    ("[web]\nweb[01:100]\n", 2, "same width"),
    ("[web]\nweb01:ssh\n", 2, "port after ':' must be a number"),
    ("[web]\nweb01:\n", 2, "reserved for a port"),
    ("[web servers]\n", 1, "invalid section"),
    ("[web:vars]\nnovalue\n[web]\n", 2, "expected key=value"),
    ("[web:children]\nbad name\n", 2, "expected a group name"),
    ("[a:children]\nb\n[b:children]\nc\n[c:children]\na\n", 6, "its own ancestor"),
])
def test_ini_errors_name_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path / "hosts.ini", text)
    with pytest.raises(InputError) as caught:
        load_inventory([str(path)])
    assert caught.value.where.file == str(path) and caught.value.where.line == line, str(caught.value)
    assert message in caught.value.message


def test_children_may_be_declared_later(tmp_path):
    inv = load_inventory([str(write(tmp_path / "h.ini", "[prod:children]\nweb\n[prod:vars]\nx=1\n[web]\nweb01\n"))])
    assert inv.match("prod") == ["web01"] and inv.host_vars("web01") == {"x": 1}


def test_yaml_errors_name_file_and_line(tmp_path):
    write(tmp_path / "hosts.yaml", "web:\n  hosts:\n    web01:\n")
    bad = write(tmp_path / "group_vars" / "web.yml", "- not\n- a mapping\n")
    with pytest.raises(InputError, match="must be a mapping") as caught:
        load_inventory([str(tmp_path / "hosts.yaml")])
    assert caught.value.where == Where(str(bad), 1, 1)
    write(tmp_path / "broken.yml", "web:\n  hosts: [\n")
    with pytest.raises(InputError, match="YAML syntax error") as caught:
        load_inventory([str(tmp_path / "broken.yml")])
    assert caught.value.where.line == 3


def test_missing_source_is_an_error(tmp_path):
    with pytest.raises(InputError, match="inventory source not found"):
        load_inventory([str(tmp_path / "nope.ini")])


@pytest.mark.parametrize("pattern, names", [
    ("web[01:03]", ["web01", "web02", "web03"]),
    ("web[1:3].example.com", ["web1.example.com", "web2.example.com", "web3.example.com"]),
    ("db-[a:c]", ["db-a", "db-b", "db-c"]),
    ("n[0:6:3]", ["n0", "n3", "n6"]),
    ("n[:2]", ["n0", "n1", "n2"]),
    ("r[1:2]-[a:b]", ["r1-a", "r1-b", "r2-a", "r2-b"]),
    ("plain", ["plain"]),
])
def test_host_ranges(pattern, names):
    assert expand_range(pattern, Where("h.ini", 1)) == names


@pytest.mark.parametrize("text, value", [
    ("8080", 8080), ("1.5", 1.5), ("True", True), ("true", "true"), ("yes", "yes"), ("None", None),
    ("'quoted'", "quoted"), ('"a b"', "a b"), ("[1, 'x']", [1, "x"]), ("{'k': 1}", {"k": 1}),
    ("(1, 2)", [1, 2]), ("hello world", "hello world"), ("8080 # a comment", 8080),
    ("1j", "1j"), ("...", "..."), ("/usr/bin/python3", "/usr/bin/python3"), (r"'C:\d'", r"C:\d"),
])
def test_ini_values_as_ansible_reads_them(text, value):
    assert parse_value(text) == value


def test_a_host_in_several_groups_is_listed_once_in_inventory_order(tmp_path):
    inv = load_inventory([str(write(tmp_path / "hosts", "[a]\nx\ny\n[b]\nz\nx\n[both:children]\nb\na\n"))])
    assert inv.group_hosts("both") == ["z", "x", "y"]
    assert inv.groups_of("x") == ["all", "both", "a", "b"]
    assert inv.match("both:&a:!y") == ["x"]
    inv.add_host("c", "z", {})  # a membership added later is seen by the next query
    assert inv.groups_of("z") == ["all", "both", "b", "c"]

