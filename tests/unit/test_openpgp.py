"""The key reader apt_key names and checks keys with, on a key gpg made
(ed25519, fingerprint as ``gpg --with-colons`` printed it)."""

from __future__ import annotations

import pytest

from celeryroot.host import openpgp

ARMORED = b"""-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEaxGr2BYJKwYBBAHaRw8BAQdAMZM+NASAAX9Xczx5yaYF1haEJoo00EEtxAIB
oTpvU520HWNlbGVyeXJvb3QgdGVzdCA8dEBsb2NhbGhvc3Q+iJAEExYIADgWIQSu
KyBpq5pMDwrhTuMo6nQZRkPK1gUCaxGr2AIbAwULCQgHAgYVCgkICwIEFgIDAQIe
AQIXgAAKCRAo6nQZRkPK1udvAQCBl5xhpk4beyTiYRHCX9OTRmOvRVKG8iR5a9G7
+nbkmwEA/DVYoY6YyuqYiv7DqhC8ecbmk/JegvQtWtx9uJvU5AE=
=GyGP
-----END PGP PUBLIC KEY BLOCK-----
"""
FINGERPRINT = "AE2B2069AB9A4C0F0AE14EE328EA74194643CAD6"


def test_armored_and_binary_keys_have_the_same_fingerprint():
    binary = openpgp.dearmor(ARMORED)
    assert openpgp.is_armored(ARMORED) and not openpgp.is_armored(binary)
    assert openpgp.fingerprint(ARMORED) == openpgp.fingerprint(binary) == FINGERPRINT
    assert openpgp.key_id(FINGERPRINT) == "28EA74194643CAD6"


@pytest.mark.parametrize("data,needle", [
    (b"Origin: celeryroot-test\nLabel: celeryroot-test\n", "not an OpenPGP key"),
    (ARMORED.replace(b"\n\n", b"\n", 1), "without its blank line"),
    (lambda: openpgp.dearmor(ARMORED)[:40], "truncated"),
    (lambda: bytes([0x88]) + openpgp.dearmor(ARMORED)[1:], "not a public key"),  # tag 2, a signature
], ids=["text", "armor", "truncated", "signature-tag"])
def test_what_is_not_a_public_key_is_refused(data, needle):
    with pytest.raises(openpgp.NotAKey, match=needle):
        openpgp.fingerprint(data() if callable(data) else data)
