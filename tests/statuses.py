"""Every task's status in one host's run, as tests/ansible_callbacks has
ansible-playbook write it, read from celeryroot's JSON report: the
differential tests (test_differential.py on this machine,
test_containers_differential.py on test hosts) compare the two lists."""

from __future__ import annotations


def celeryroot_tasks(doc: dict | None, host: str) -> list[dict]:
    """The report's tasks that ``host`` has a result in (a meta action that
    runs is reported by neither tool)."""
    return [t for p in (doc or {"plays": []})["plays"] for t in p["tasks"] if host in t["hosts"]]


def celeryroot_statuses(tasks: list[dict], host: str) -> list[tuple[str, str, str]]:
    """``(kind, task, status)`` per task; Ansible's callbacks name a role's
    task without the role ("web : x" is x)."""
    return [("handler" if t["task"]["kind"] == "running handler" else t["task"]["kind"], task_name(t),
             status(t["hosts"][host])) for t in tasks]


def task_name(task: dict) -> str:
    return task["task"]["name"].split(" : ", 1)[-1]


def status(res: dict) -> str:
    if res.get("unreachable"):
        return "unreachable"
    if res.get("failed"):
        return "ignored" if res.get("ignored") else "failed"
    return "skipped" if res.get("skipped") else "changed" if res.get("changed") else "ok"
