"""Network facts: interfaces, their addresses and the default routes.

Links are read from /sys/class/net and default routes from /proc/net/route
and /proc/net/ipv6_route. Addresses come from ``ip -j addr`` (all of them,
secondaries included); without iproute2, from /proc/net/if_inet6 and the
SIOCGIFADDR ioctl, which knows only each interface's primary IPv4 address.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import shutil
import socket
import struct
from pathlib import Path

from .proc import BASE_PATH, run

SYS_NET = Path("/sys/class/net")
SIOCGIFADDR, SIOCGIFNETMASK = 0x8915, 0x891B
RTF_UP, RTF_REJECT = 0x1, 0x200
# ARPHRD_* numbers in /sys/class/net/X/type, by Ansible's interface type names.
LINK_TYPES = {"1": "ether", "772": "loopback", "512": "ppp", "65534": "tunnel", "776": "tunnel6"}
IPV6_SCOPES = {"00": "global", "10": "host", "20": "link", "40": "site"}


def network(timeout: float = 10) -> dict:
    links = {name: _link(name) for name in sorted(p.name for p in SYS_NET.iterdir())}
    found = addresses_from_ip(timeout) if shutil.which("ip", path=BASE_PATH) else None
    for name, (v4, v6) in (found if found is not None else addresses_from_proc(links)).items():
        if name in links:
            _add_addresses(links[name], v4, v6)
    facts: dict = {"interfaces": list(links)}
    facts.update({name.replace("-", "_"): link for name, link in links.items()})
    facts["all_ipv4_addresses"] = [a["address"] for link in links.values() for a in _v4_all(link)
                                   if not a["address"].startswith("127.")]
    facts["all_ipv6_addresses"] = [a["address"] for link in links.values() for a in link.get("ipv6", [])
                                   if a["address"] != "::1"]
    facts["default_ipv4"] = _default(links, default_route_v4(), "ipv4")
    facts["default_ipv6"] = _default(links, default_route_v6(), "ipv6")
    return facts


def _link(name: str) -> dict:
    def sys(attr: str) -> str:
        try:
            return (SYS_NET / name / attr).read_text().strip()
        except OSError:
            return ""

    kind = LINK_TYPES.get(sys("type"), "unknown")
    if (SYS_NET / name / "bonding").exists():
        kind = "bonding"
    elif (SYS_NET / name / "bridge").exists():
        kind = "bridge"
    return {"device": name, "active": sys("operstate") != "down", "type": kind,
            "mtu": int(sys("mtu") or 0), "macaddress": sys("address")}


def addresses_from_ip(timeout: float) -> dict[str, tuple[list, list]] | None:
    """``{ifname: ([(address, prefixlen, label)], [(address, prefixlen, scope)])}``."""
    done = run(["ip", "-j", "addr", "show"], timeout=timeout)
    if done.rc != 0:
        return None
    out: dict[str, tuple[list, list]] = {}
    for link in json.loads(done.stdout or "[]"):
        v4, v6 = out.setdefault(link["ifname"], ([], []))
        for a in link.get("addr_info", []):
            if a.get("family") == "inet":
                v4.append((a["local"], a["prefixlen"], a.get("label", link["ifname"])))
            elif a.get("family") == "inet6":
                v6.append((a["local"], a["prefixlen"], a.get("scope", "global")))
    return out


def addresses_from_proc(links: dict) -> dict[str, tuple[list, list]]:
    """The same shape as `addresses_from_ip`, without running a program."""
    out: dict[str, tuple[list, list]] = {name: ([], []) for name in links}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for name in links:
            primary = _ioctl_v4(sock, name)
            if primary:
                out[name][0].append((*primary, name))
    for line in _lines("/proc/net/if_inet6"):
        raw, _, prefix, scope, _, name = line.split()
        if name in out:
            address = str(ipaddress.IPv6Address(bytes.fromhex(raw)))
            out[name][1].append((address, int(prefix, 16), IPV6_SCOPES.get(scope, "global")))
    return out


def _ioctl_v4(sock: socket.socket, name: str) -> tuple[str, int] | None:
    request = struct.pack("256s", name[:15].encode())
    try:
        address = socket.inet_ntoa(fcntl.ioctl(sock.fileno(), SIOCGIFADDR, request)[20:24])
        mask = socket.inet_ntoa(fcntl.ioctl(sock.fileno(), SIOCGIFNETMASK, request)[20:24])
    except OSError:
        return None  # the interface has no IPv4 address
    return address, ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen


def _add_addresses(link: dict, v4: list, v6: list) -> None:
    shaped = [_v4_fact(address, prefix, label, link["type"]) for address, prefix, label in v4]
    if shaped:
        link["ipv4"] = shaped[0]
    if shaped[1:]:
        link["ipv4_secondaries"] = shaped[1:]
    if v6:
        link["ipv6"] = [{"address": a, "prefix": str(p), "scope": s} for a, p, s in v6]


def _v4_fact(address: str, prefix: int, label: str, kind: str) -> dict:
    net = ipaddress.IPv4Interface(f"{address}/{prefix}").network
    # Ansible reads 'brd' from ip's output; a loopback or point-to-point /31+ has none.
    broadcast = str(net.broadcast_address) if prefix <= 30 and kind != "loopback" else ""
    return {"address": address, "broadcast": broadcast, "netmask": str(net.netmask),
            "network": str(net.network_address), "prefix": str(prefix), "alias": label}


def _v4_all(link: dict) -> list[dict]:
    return ([link["ipv4"]] if "ipv4" in link else []) + link.get("ipv4_secondaries", [])


def default_route_v4() -> tuple[str, str] | None:
    """``(interface, gateway)`` of the default route with the lowest metric."""
    best = None
    for line in _lines("/proc/net/route")[1:]:
        iface, dest, gateway, flags, _, _, metric, mask = line.split()[:8]
        if dest == mask == "00000000" and int(flags, 16) & RTF_UP:
            gw = socket.inet_ntoa(struct.pack("<L", int(gateway, 16)))
            if best is None or int(metric) < best[0]:
                best = (int(metric), iface, gw)
    return best[1:] if best else None


def default_route_v6() -> tuple[str, str] | None:
    best = None
    for line in _lines("/proc/net/ipv6_route"):
        dest, dest_len, _, _, hop, metric, _, _, flags, iface = line.split()
        flags_int = int(flags, 16)
        # The kernel lists an unreachable ::/0 on lo as a reject route; it is no default.
        if int(dest, 16) or dest_len != "00" or flags_int & RTF_REJECT or not flags_int & RTF_UP:
            continue
        if best is None or int(metric, 16) < best[0]:
            best = (int(metric, 16), iface, str(ipaddress.IPv6Address(bytes.fromhex(hop))))
    return best[1:] if best else None


def _default(links: dict, route: tuple[str, str] | None, family: str) -> dict:
    if route is None or route[0] not in links:
        return {}
    iface, gateway = route
    link = links[iface]
    addresses = link.get(family)
    if family == "ipv6":
        addresses = next((a for a in addresses or [] if a["scope"] == "global"), None)
    return {**(addresses or {}), "interface": iface, "gateway": gateway,
            "macaddress": link["macaddress"], "mtu": link["mtu"], "type": link["type"]}


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []
