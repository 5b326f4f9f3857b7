"""``password_hash``: the hashes of /etc/shadow, SHA-crypt (``$5$``,
``$6$``) as Ulrich Drepper's specification says and the older MD5-crypt
(``$1$``, Poul-Henning Kamp's), with the standard library only (Python's
``crypt`` module is gone in 3.13, and ansible-core needs passlib for
this). bcrypt (``blowfish``) is not done: it needs Blowfish.

As ansible-core with passlib, the rounds default to 535000 (sha256) and
656000 (sha512) and are then written into the hash; a hash of 5000
rounds, crypt's own default, does not name them.
"""

from __future__ import annotations

import hashlib
import secrets
import string

from jinja2.exceptions import FilterArgumentError

from .impure import impure

ALPHABET = "./" + string.digits + string.ascii_uppercase + string.ascii_lowercase
IMPLICIT_ROUNDS = 5000


class Scheme:
    """One crypt variant: its digest, its ``$id$``, its default rounds, its
    longest salt, and the order the digest's bytes are written in (three at
    a time, as four characters, then the rest)."""

    def __init__(self, digest: str, ident: str, rounds: int, salt_most: int, order: list, tail: tuple[int, ...]):
        self.digest, self.ident, self.rounds, self.salt_most = digest, ident, rounds, salt_most
        self.order, self.tail = order, tail


def _sha_order(step: int, size: int) -> list:
    groups = size // 3
    return [((step * i) % (groups * 3), (step * i + groups) % (groups * 3), (step * i + 2 * groups) % (groups * 3))
            for i in range(groups)]


SCHEMES = {
    "sha256_crypt": Scheme("sha256", "5", 535000, 16, _sha_order(21, 32), (31, 30)),
    "sha512_crypt": Scheme("sha512", "6", 656000, 16, _sha_order(22, 64), (63,)),
    # MD5-crypt has 1000 rounds, always, and never names them
    "md5_crypt": Scheme("md5", "1", 1000, 8, [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)], (11,)),
}
ALIASES = {"sha256": "sha256_crypt", "sha512": "sha512_crypt", "md5": "md5_crypt"}


def _repeat(block: bytes, length: int) -> bytes:
    return (block * (length // len(block) + 1))[:length]


def sha_crypt(password: bytes, salt: bytes, rounds: int, scheme: Scheme) -> bytes:
    """The digest of the specification's steps 1 to 21."""
    def h(*parts: bytes) -> bytes:
        return hashlib.new(scheme.digest, b"".join(parts)).digest()

    b = h(password, salt, password)
    a = hashlib.new(scheme.digest, password + salt + _repeat(b, len(password)))
    length = len(password)
    while length:
        a.update(b if length & 1 else password)
        length >>= 1
    c = a.digest()
    p = _repeat(h(password * len(password)), len(password))
    s = _repeat(h(salt * (16 + c[0])), len(salt))
    # Round i hashes c with text fixed by i % 42 (odd or even, % 3, % 7):
    # before c in odd rounds, after it in even ones. Built once, they make
    # the 656000 default rounds take a second, not five.
    texts = [(i & 1, (p if i & 1 else b"") + (s if i % 3 else b"") + (p if i % 7 else b"") +
              (b"" if i & 1 else p)) for i in range(42)]
    new = getattr(hashlib, scheme.digest)
    for i in range(rounds):
        odd, text = texts[i % 42]
        c = new(text + c if odd else c + text).digest()
    return c


def md5_crypt(password: bytes, salt: bytes) -> bytes:
    """The digest of MD5-crypt (FreeBSD's, glibc's ``$1$``)."""
    alternate = hashlib.md5(password + salt + password).digest()
    ctx = hashlib.md5(password + b"$1$" + salt + _repeat(alternate, len(password)))
    length = len(password)
    while length:
        ctx.update(b"\0" if length & 1 else password[:1])
        length >>= 1
    c = ctx.digest()
    for i in range(1000):
        c = hashlib.md5((password if i & 1 else c) + (salt if i % 3 else b"") + (password if i % 7 else b"") +
                        (c if i & 1 else password)).digest()
    return c


def _encode(value: int, chars: int) -> str:
    out = []
    for _ in range(chars):
        out.append(ALPHABET[value & 0x3F])
        value >>= 6
    return "".join(out)


def _text(digest: bytes, scheme: Scheme) -> str:
    out = [_encode((digest[x] << 16) | (digest[y] << 8) | digest[z], 4) for x, y, z in scheme.order]
    rest = 0
    for index in scheme.tail:
        rest = (rest << 8) | digest[index]
    out.append(_encode(rest, len(scheme.tail) + 1))
    return "".join(out)


def password_hash(password, hashtype="sha512", salt=None, salt_size=None, rounds=None, ident=None):
    """``'secret' | password_hash('sha512', 'mysalt')``: a crypt(3) hash for
    the user module; without a salt, a random one of ``salt_size`` (16, 8
    for md5)."""
    name = ALIASES.get(hashtype, hashtype)
    if name not in SCHEMES:
        raise FilterArgumentError(f"password_hash: {hashtype!r} is not supported here; use sha512, sha256 or md5 "
                                  f"(bcrypt needs passlib, which celeryroot does without)")
    scheme = SCHEMES[name]
    if salt is None:
        salt = "".join(secrets.choice(ALPHABET) for _ in range(salt_size or scheme.salt_most))
    salt = str(salt)
    if len(salt) > scheme.salt_most or not all(ch in ALPHABET for ch in salt):
        raise FilterArgumentError(f"password_hash: a salt of {name} is at most {scheme.salt_most} of the "
                                  f"characters ./0-9A-Za-z")
    if name == "md5_crypt":
        return f"$1${salt}${_text(md5_crypt(str(password).encode(), salt.encode()), scheme)}"
    rounds = int(rounds or scheme.rounds)
    if not 1000 <= rounds <= 999_999_999:
        raise FilterArgumentError("password_hash: rounds must be between 1000 and 999999999")
    digest = sha_crypt(str(password).encode(), salt.encode(), rounds, scheme)
    named = "" if rounds == IMPLICIT_ROUNDS else f"rounds={rounds}$"
    return f"${scheme.ident}${named}{salt}${_text(digest, scheme)}"


FILTERS = {"password_hash": impure(password_hash)}  # a random salt
