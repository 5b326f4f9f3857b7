"""celeryroot: Ansible-style playbooks without SSH, over Celery and Redis."""

__version__ = "0.1.0"
