"""service_facts and package_facts: what they say is what dpkg and the init system say."""

from __future__ import annotations

import os
import subprocess

import sysvdaemon
from conftest import free_port, wait_for, write


def run_facts(play, tmp_path, fleet_inventory, module: str, check: bool = False) -> dict:
    book = write(tmp_path / f"{module}.yaml", f"""
- hosts: web1
  gather_facts: false
  tasks:
    - name: facts
      {module}:
    - name: shown
      debug: var=ansible_facts
""")
    out = play(book, *(["--check"] if check else []), inventory=fleet_inventory)
    assert out.rc == 0, out
    res = out.results("facts")["web1"]
    assert not res["changed"] and not res["failed"], res
    return res["ansible_facts"]


def test_package_facts_are_dpkgs(fleet, play, tmp_path, fleet_inventory):
    packages = run_facts(play, tmp_path, fleet_inventory, "package_facts")["packages"]
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "dpkg"], capture_output=True,
                             text=True).stdout
    (dpkg,) = packages["dpkg"]
    assert dpkg["version"] == version and dpkg["source"] == "apt" and dpkg["name"] == "dpkg"
    assert set(dpkg) == {"name", "version", "arch", "category", "source"}
    assert "crtest-no-such-package" not in packages
    assert run_facts(play, tmp_path, fleet_inventory, "package_facts", check=True)["packages"] == packages


def test_service_facts_name_every_service(fleet, play, tmp_path, fleet_inventory):
    if os.path.isdir("/run/systemd/system"):
        services = run_facts(play, tmp_path, fleet_inventory, "service_facts")["services"]
        assert all(s["source"] == "systemd" and "status" in s for s in services.values()), services
        return
    name, port = f"crtestd-facts-{os.getpid()}", free_port()
    sysvdaemon.install(name, port)
    try:
        subprocess.run(["service", name, "start"], check=True, capture_output=True)
        wait_for(lambda: sysvdaemon.answer(port), 10, "the daemon's port")
        services = run_facts(play, tmp_path, fleet_inventory, "service_facts")["services"]
    finally:
        sysvdaemon.uninstall(name)
    assert services[name] == {"name": name, "state": "running", "source": "sysv"}
    listed = subprocess.run(["service", "--status-all"], capture_output=True, text=True).stdout
    names = {line.split("]", 1)[1].strip() for line in listed.splitlines()}
    assert set(services) - {name} == names
    for other in names:
        assert services[other]["source"] == "sysv"
        assert services[other]["state"] in ("running", "stopped")
