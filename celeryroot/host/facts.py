"""Facts about the host the worker runs on, by Ansible's names.

Each collector is a function returning a dict of facts, read from Python
(``platform``, ``os``, ``socket``, ``pwd``) and from files (/etc/os-release,
/proc); only the network collector runs a program (``ip -j addr``). Names
are those of ``ansible_facts`` (no ``ansible_`` prefix); `facts_to_vars`
makes the top-level ``ansible_*`` variables templates use.
"""

from __future__ import annotations

import os
import platform
import pwd
import shlex
import socket
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from .netfacts import network

# Ansible's names for os-release IDs where they are not the capitalised ID.
DISTRIBUTION_NAMES = {
    "rhel": "RedHat", "centos": "CentOS", "ol": "OracleLinux", "amzn": "Amazon", "almalinux": "AlmaLinux",
    "sles": "SLES", "sles_sap": "SLES_SAP", "opensuse-leap": "openSUSE Leap",
    "opensuse-tumbleweed": "openSUSE Tumbleweed", "arch": "Archlinux", "linuxmint": "Linux Mint",
}
# os_family from the ID, else from the first known word of ID_LIKE.
FAMILIES = {"debian": "Debian", "rhel": "RedHat", "fedora": "RedHat", "centos": "RedHat", "suse": "Suse",
            "arch": "Archlinux", "alpine": "Alpine", "gentoo": "Gentoo"}
PKG_MGRS = (("/usr/bin/apt-get", "apt"), ("/usr/bin/dnf5", "dnf5"), ("/usr/bin/dnf", "dnf"),
            ("/usr/bin/yum", "yum"), ("/usr/bin/zypper", "zypper"), ("/usr/bin/pacman", "pacman"),
            ("/sbin/apk", "apk"), ("/usr/bin/emerge", "portage"))
# DMI product or vendor words → Ansible's virtualization_type.
HYPERVISORS = (("KVM", "kvm"), ("QEMU", "kvm"), ("Amazon EC2", "kvm"), ("Google", "kvm"),
               ("VMware", "VMware"), ("VirtualBox", "virtualbox"), ("Xen", "xen"),
               ("Microsoft", "VirtualPC"), ("OpenStack", "openstack"), ("Bochs", "bochs"))
#: The worker's own settings (a broker URL may hold a password) stay out of ``env``.
PRIVATE_ENV_PREFIX = "CELERYROOT_"


def read(path: str, default: str = "") -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return default


def os_release() -> dict[str, str]:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        text = read(path)
        if text:
            out = {}
            for line in text.splitlines():
                key, sep, value = line.partition("=")
                if sep and not key.startswith("#"):
                    out[key.strip()] = " ".join(shlex.split(value)) if value.strip() else ""
            return out
    return {}


def platform_facts() -> dict:
    uname = platform.uname()
    fqdn = socket.getfqdn()
    machine = uname.machine
    return {
        "system": uname.system, "kernel": uname.release, "kernel_version": uname.version,
        "machine": machine, "architecture": "i386" if machine in ("i486", "i586", "i686") else machine,
        "nodename": uname.node, "hostname": uname.node.split(".")[0], "fqdn": fqdn,
        "domain": ".".join(fqdn.split(".")[1:]), "userspace_bits": str(sys.maxsize.bit_length() + 1),
        "machine_id": read("/etc/machine-id"),
    }


def distribution_facts() -> dict:
    rel = os_release()
    ident = rel.get("ID", "").lower()
    name = DISTRIBUTION_NAMES.get(ident, ident.capitalize() if ident else platform.system())
    version = rel.get("VERSION_ID", "")
    debian = read("/etc/debian_version")
    if ident == "debian" and debian[:1].isdigit():
        version = debian  # os-release says "12"; Ansible reports the point release, "12.5"
    words = [ident, *rel.get("ID_LIKE", "").lower().split()]
    family = next((FAMILIES[w] for w in words if w in FAMILIES), name)
    parts = version.split(".")
    return {
        "distribution": name, "distribution_version": version or "NA",
        "distribution_major_version": parts[0] or "NA",
        "distribution_minor_version": parts[1] if len(parts) > 1 else "NA",
        "distribution_release": rel.get("VERSION_CODENAME") or rel.get("UBUNTU_CODENAME") or "NA",
        "os_family": family,
    }


def python_facts() -> dict:
    v = sys.version_info
    return {
        "python": {"version": {"major": v.major, "minor": v.minor, "micro": v.micro,
                               "releaselevel": v.releaselevel, "serial": v.serial},
                   "version_info": list(v), "executable": sys.executable, "has_sslcontext": True,
                   "type": platform.python_implementation()},
        "python_version": platform.python_version(),
    }


def pkg_mgr_facts() -> dict:
    found = next((name for path, name in PKG_MGRS if os.path.exists(path)), "unknown")
    return {"pkg_mgr": found}


def service_mgr_facts() -> dict:
    # A container may ship systemd's files without running it: PID 1 decides.
    systemd = os.path.isdir("/run/systemd/system") and read("/proc/1/comm") == "systemd"
    return {"service_mgr": "systemd" if systemd else "sysvinit"}


def date_time_facts() -> dict:
    epoch = time.time()
    now = datetime.fromtimestamp(epoch)
    utc = datetime.fromtimestamp(epoch, timezone.utc)
    local = time.localtime(epoch)
    return {"date_time": {
        "year": now.strftime("%Y"), "month": now.strftime("%m"), "weekday": now.strftime("%A"),
        "weekday_number": now.strftime("%w"), "weeknumber": now.strftime("%W"), "day": now.strftime("%d"),
        "hour": now.strftime("%H"), "minute": now.strftime("%M"), "second": now.strftime("%S"),
        "epoch": str(int(epoch)), "epoch_int": str(int(epoch)), "date": now.strftime("%Y-%m-%d"),
        "time": now.strftime("%H:%M:%S"), "iso8601_micro": utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "iso8601": utc.strftime("%Y-%m-%dT%H:%M:%SZ"), "iso8601_basic": now.strftime("%Y%m%dT%H%M%S%f"),
        "iso8601_basic_short": now.strftime("%Y%m%dT%H%M%S"), "tz": time.strftime("%Z", local),
        "tz_dst": time.tzname[1], "tz_offset": time.strftime("%z", local),
    }}


def env_facts() -> dict:
    return {"env": {k: v for k, v in os.environ.items() if not k.startswith(PRIVATE_ENV_PREFIX)}}


def user_facts() -> dict:
    entry = pwd.getpwuid(os.getuid())
    return {"user_id": entry.pw_name, "user_uid": entry.pw_uid, "user_gid": entry.pw_gid,
            "user_gecos": entry.pw_gecos, "user_dir": entry.pw_dir, "user_shell": entry.pw_shell,
            "real_user_id": os.getuid(), "effective_user_id": os.geteuid(),
            "real_group_id": os.getgid(), "effective_group_id": os.getegid()}


def selinux_facts() -> dict:
    enforce = read("/sys/fs/selinux/enforce")
    if not enforce:
        return {"selinux": {"status": "disabled"}}
    return {"selinux": {"status": "enabled", "mode": "enforcing" if enforce == "1" else "permissive"}}


def hardware_facts() -> dict:
    cpus = [dict(_colon_pairs(block)) for block in read("/proc/cpuinfo").split("\n\n") if block.strip()]
    sockets = {c["physical id"] for c in cpus if "physical id" in c} or {"0"}
    cores = int(cpus[0].get("cpu cores", 1)) if cpus else 1
    vcpus = len(cpus) or os.cpu_count() or 1
    mem = {k: int(v.split()[0]) // 1024 for k, v in _colon_pairs(read("/proc/meminfo"))}
    real_used = mem.get("MemTotal", 0) - mem.get("MemFree", 0)
    nocache_free = mem.get("MemFree", 0) + mem.get("Buffers", 0) + mem.get("Cached", 0)
    return {
        "processor_count": len(sockets), "processor_cores": cores, "processor_vcpus": vcpus,
        "processor_threads_per_core": max(1, vcpus // (len(sockets) * cores)),
        "processor_nproc": len(os.sched_getaffinity(0)),
        "memtotal_mb": mem.get("MemTotal", 0), "memfree_mb": mem.get("MemFree", 0),
        "swaptotal_mb": mem.get("SwapTotal", 0), "swapfree_mb": mem.get("SwapFree", 0),
        "memory_mb": {"real": {"total": mem.get("MemTotal", 0), "used": real_used, "free": mem.get("MemFree", 0)},
                      "nocache": {"free": nocache_free, "used": mem.get("MemTotal", 0) - nocache_free},
                      "swap": {"total": mem.get("SwapTotal", 0), "free": mem.get("SwapFree", 0),
                               "used": mem.get("SwapTotal", 0) - mem.get("SwapFree", 0)}},
        "uptime_seconds": int(float(read("/proc/uptime", "0").split()[0])),
    }


def _colon_pairs(text: str):
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            yield key.strip(), value.strip()


def virtual_facts() -> dict:
    kind = _container()
    if kind is None:
        dmi = read("/sys/class/dmi/id/product_name") + " " + read("/sys/class/dmi/id/sys_vendor")
        kind = next((k for word, k in HYPERVISORS if word in dmi), None)
    if kind is None and "hypervisor" in read("/proc/cpuinfo").split():
        kind = "kvm"  # a hypervisor the DMI table does not name; KVM is by far the likeliest
    guest = [kind] if kind else []
    return {"virtualization_type": kind or "NA", "virtualization_role": "guest" if kind else "NA",
            "virtualization_tech_guest": guest, "virtualization_tech_host": []}


def _container() -> str | None:
    if os.path.exists("/.dockerenv"):
        return "docker"
    if os.path.exists("/run/.containerenv"):
        return "podman"
    marker = read("/run/systemd/container")
    if marker:
        return marker
    try:
        environ = Path("/proc/1/environ").read_bytes().split(b"\0")
    except OSError:
        return None  # only root may read it; an unprivileged worker then falls back to DMI
    found = [e[len(b"container="):].decode() for e in environ if e.startswith(b"container=")]
    return found[0] if found else None


COLLECTORS = {
    "platform": platform_facts, "distribution": distribution_facts, "python": python_facts,
    "pkg_mgr": pkg_mgr_facts, "service_mgr": service_mgr_facts, "date_time": date_time_facts,
    "env": env_facts, "user": user_facts, "selinux": selinux_facts,
    "hardware": hardware_facts, "network": network, "virtual": virtual_facts,
}
MIN_SUBSET = frozenset(("platform", "distribution", "python", "pkg_mgr", "service_mgr", "date_time",
                        "env", "user", "selinux"))
ALL_SUBSETS = frozenset(COLLECTORS)


def collectors_for(gather_subset: list[str] | tuple[str, ...]) -> list[str]:
    """Ansible's rule: ``min`` always (unless ``!min``), ``all`` by default,
    ``!x`` excludes, and a subset named explicitly beats an exclusion."""
    wanted, excluded, explicit = set(), set(), set()
    for item in ["min", *gather_subset]:
        negate, name = item.startswith("!"), item.lstrip("!")
        group = {"min": MIN_SUBSET, "all": ALL_SUBSETS}.get(name, {name})
        if negate:
            excluded |= ALL_SUBSETS - MIN_SUBSET if name == "all" else group
        else:
            wanted |= group
            if name not in ("min", "all"):
                explicit |= group
    return sorted(wanted - (excluded - explicit))


def subset_names() -> list[str]:
    return sorted({"all", "min", *ALL_SUBSETS})


def gather(gather_subset=("all",), timeout: float = 10) -> dict:
    """The facts of the named subsets; ``timeout`` bounds the one program run."""
    facts: dict = {}
    for name in collectors_for(gather_subset):
        facts.update(network(timeout) if name == "network" else COLLECTORS[name]())
    return facts


def facts_to_vars(facts: dict) -> dict:
    """The variables a host gets from its facts: ``ansible_facts`` itself and
    ``ansible_<name>`` for each fact, as Ansible injects them."""
    out = {f"ansible_{name}": value for name, value in facts.items()}
    out["ansible_facts"] = facts
    return out
