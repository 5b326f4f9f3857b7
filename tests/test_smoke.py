from conftest import write


def test_fleet_runs_a_play(fleet, play, fleet_inventory, tmp_path):
    book = write(tmp_path / "p.yaml", """
- hosts: web1,web2,db1
  tasks:
    - name: dir
      file: path={{ root }} state=directory
""")
    first = play(book, inventory=fleet_inventory)
    assert first.rc == 0, first
    assert first.total("changed") == 3
    second = play(book, inventory=fleet_inventory)
    assert second.total("changed") == 0, second
