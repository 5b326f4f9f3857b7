"""X.509 for the TLS tests, made with the cryptography package: a CA, and
the server and client certificates it signs, written as PEM files."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Pair:
    cert: Path
    key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(subject: x509.Name, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1)))


class Authority:
    """A CA of its own, written to ``directory/NAME.crt``; what it signs goes
    beside it as ``NAME.crt`` and ``NAME.key``."""

    def __init__(self, directory: Path, name: str = "ca"):
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.subject = _name(f"celeryroot test {name}")
        cert = (_certificate(self.subject, self.subject, self.key.public_key())
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                             content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False,
                                             encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
                .sign(self.key, hashes.SHA256()))
        self.path = self._write(f"{name}.crt", cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, name: str, dns: str | None = None) -> Pair:
        """A server certificate for the host name ``dns``, or (without) a client certificate."""
        key = ec.generate_private_key(ec.SECP256R1())
        usage = ExtendedKeyUsageOID.SERVER_AUTH if dns else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (_certificate(_name(dns or name), self.subject, key.public_key())
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                                  critical=False))
        if dns:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return Pair(self._write(f"{name}.crt", cert.public_bytes(serialization.Encoding.PEM)),
                    self._write(f"{name}.key", key_pem, 0o600))

    def _write(self, filename: str, data: bytes, mode: int = 0o644) -> Path:
        path = self.directory / filename
        path.write_bytes(data)
        path.chmod(mode)
        return path
