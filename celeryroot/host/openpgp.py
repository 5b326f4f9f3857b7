"""An OpenPGP public key's fingerprint, read from the key itself.

apt_key names a keyring file after its key and checks a given ``id``
against it; reading the first packet (RFC 4880 §4.2, §12.2; RFC 9580 for
version 6) is enough, where gpg would need a home directory of its own
and is not installed on every host (apt itself only needs gpgv or sqv).
"""

from __future__ import annotations

import base64
import hashlib

ARMOR_BEGIN = b"-----BEGIN PGP PUBLIC KEY BLOCK-----"
PUBLIC_KEY = 6


class NotAKey(ValueError):
    """The bytes are not an OpenPGP public key this reader understands."""


def is_armored(data: bytes) -> bool:
    return data.lstrip().startswith(ARMOR_BEGIN)


def dearmor(data: bytes) -> bytes:
    """The binary key of an ASCII-armored block (headers, checksum and
    the lines around it left out)."""
    lines = data.strip().splitlines()
    try:
        end = next(i for i, line in enumerate(lines) if line.startswith(b"-----END PGP PUBLIC KEY BLOCK"))
        blank = next(i for i, line in enumerate(lines) if not line.strip())
    except StopIteration:
        raise NotAKey("an armored key without its blank line or END line") from None
    body = b"".join(line.strip() for line in lines[blank + 1:end] if not line.startswith(b"="))
    try:
        return base64.b64decode(body, validate=True)
    except ValueError:
        raise NotAKey("an armored key whose body is not base64") from None


def fingerprint(data: bytes) -> str:
    """The fingerprint (upper-case hex) of the first key in ``data``,
    armored or binary."""
    raw = dearmor(data) if is_armored(data) else data
    tag, body = _first_packet(raw)
    if tag != PUBLIC_KEY:
        raise NotAKey(f"not a public key (its first OpenPGP packet has tag {tag})")
    version = body[0] if body else 0
    if version == 4:
        return hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest().upper()
    if version == 6:
        return hashlib.sha256(b"\x9b" + len(body).to_bytes(4, "big") + body).hexdigest().upper()
    raise NotAKey(f"an OpenPGP version {version} key is not supported (only 4 and 6)")


def key_id(fpr: str) -> str:
    """The long key id of a fingerprint, as gpg and apt print it."""
    return fpr[-16:] if len(fpr) == 40 else fpr[:16]


def _first_packet(raw: bytes) -> tuple[int, bytes]:
    if not raw or not raw[0] & 0x80:
        raise NotAKey("not an OpenPGP key")
    first = raw[0]
    if first & 0x40:  # the new packet format
        tag, o, at = first & 0x3F, raw[1] if len(raw) > 1 else 0, 2
        if o < 192:
            length = o
        elif o < 224:
            length, at = ((o - 192) << 8) + raw[2] + 192, 3
        elif o == 255:
            length, at = int.from_bytes(raw[2:6], "big"), 6
        else:
            raise NotAKey("a key packet of partial length")
    else:
        tag, kind = (first >> 2) & 0x0F, first & 0x03
        if kind == 3:
            length, at = len(raw) - 1, 1
        else:
            size = 1 << kind
            length, at = int.from_bytes(raw[1:1 + size], "big"), 1 + size
    body = raw[at:at + length]
    if len(body) != length:
        raise NotAKey("a truncated OpenPGP key")
    return tag, body
