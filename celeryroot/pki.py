"""Keys and certificates: who may send a host work, and whom a result is from.

One CA signs every identity. A controller's certificate says
``OU=celeryroot-controller``; a host's says ``OU=celeryroot-host`` and names
the host (its inventory name) as ``CN``. Keys are ECDSA P-256: X.509 as any
CA issues it (an operator's own CA works), and one key per identity serves
both signing and key agreement (envelope.py).

A PKI directory is laid out the same on both sides::

    ca.crt                    the CA (trusted by every controller and host)
    ca.key                    the CA's key: on the machine that issues only
    crl.pem                   revoked certificates (copy it to the hosts)
    controller.key/.crt       a controller's identity
    hosts/NAME/               what `pki host NAME` issues; copied to the
        host.key, host.crt,   host, it is that host's PKI directory
        ca.crt

The directory is ``--pki``, else ``CELERYROOT_PKI``, else ``pki_dir`` in
celeryroot.yaml, else /etc/celeryroot/pki.
"""

from __future__ import annotations

import datetime
import os
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .host.fileops import atomic_write
from .lang.source import InputError, Where

DEFAULT_DIR = Path("/etc/celeryroot/pki")
CONTROLLER = "celeryroot-controller"
HOST = "celeryroot-host"
#: Ten years for the CA, two for the identities it issues.
CA_DAYS, IDENTITY_DAYS = 3650, 730


class PkiError(InputError):
    """A missing, unsafe or untrusted key or certificate (exit status 1)."""

    def __init__(self, path, message: str):
        super().__init__(Where(str(path)) if path is not None else None, message)


def pki_dir(option: str | None = None, config_options: dict | None = None) -> Path:
    chosen = option or os.environ.get("CELERYROOT_PKI") or (config_options or {}).get("pki_dir")
    return Path(chosen) if chosen else DEFAULT_DIR


@dataclass(frozen=True)
class Identity:
    """A private key and the certificate that names it."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @cached_property
    def cert_der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def name(self) -> str:
        return common_name(self.cert)


class Trust:
    """The CA and its revocation list: whether a certificate may act as a
    controller, or as a given host."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.ca = load_cert(directory / "ca.crt")
        crl_path = directory / "crl.pem"
        self.crl = x509.load_pem_x509_crl(crl_path.read_bytes()) if crl_path.exists() else None
        if self.crl is not None and not self.crl.is_signature_valid(self.ca.public_key()):
            raise PkiError(crl_path, "the revocation list is not signed by ca.crt")

    def check(self, cert: x509.Certificate, role: str, name: str | None = None) -> None:
        """Raise `PkiError` unless ``cert`` is the CA's, valid now, not
        revoked, of ``role`` and (if given) named ``name``."""
        where = f"certificate '{common_name(cert)}'"
        try:
            cert.verify_directly_issued_by(self.ca)
        except (ValueError, TypeError, InvalidSignature):
            raise PkiError(None, f"{where} is not issued by the trusted CA") from None
        now = datetime.datetime.now(datetime.timezone.utc)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise PkiError(None, f"{where} is not valid now (valid {cert.not_valid_before_utc:%Y-%m-%d} to "
                                 f"{cert.not_valid_after_utc:%Y-%m-%d})")
        if self.crl is not None and self.crl.get_revoked_certificate_by_serial_number(cert.serial_number):
            raise PkiError(None, f"{where} is revoked")
        if role_of(cert) != role:
            raise PkiError(None, f"{where} is a {role_of(cert) or 'foreign'} certificate, not a {role} one")
        if name is not None and common_name(cert) != name:
            raise PkiError(None, f"{where} does not name host '{name}'")


def common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def role_of(cert: x509.Certificate) -> str:
    units = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    return str(units[0].value) if units else ""


def load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        raise PkiError(path, "no such certificate (celeryroot pki init / celeryroot pki host NAME make them)") from None
    except ValueError as exc:
        raise PkiError(path, f"not a PEM certificate ({exc})") from None


def load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """A private key, refused if anyone but its owner may read it (as ssh does)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise PkiError(path, "no such key (celeryroot pki init / celeryroot pki host NAME make them)") from None
    if mode & 0o077:
        raise PkiError(path, f"the key is readable by others (mode {stat.S_IMODE(mode):04o}); chmod 600 it")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise PkiError(path, "the key is not an ECDSA P-256 key")
    return key


def load_identity(directory: Path, stem: str) -> Identity:
    identity = Identity(load_key(directory / f"{stem}.key"), load_cert(directory / f"{stem}.crt"))
    if identity.cert.public_key().public_numbers() != identity.key.public_key().public_numbers():
        raise PkiError(directory / f"{stem}.crt", f"the certificate is not {stem}.key's")
    return identity


def controller_identity(directory: Path, trust: Trust) -> Identity:
    identity = load_identity(directory, "controller")
    _checked(trust, identity.cert, CONTROLLER, None, directory / "controller.crt")
    return identity


def host_identity(directory: Path, trust: Trust, host: str) -> Identity:
    identity = load_identity(directory, "host")
    _checked(trust, identity.cert, HOST, host, directory / "host.crt")
    return identity


def host_certificate(directory: Path, trust: Trust, host: str) -> x509.Certificate:
    """The certificate the controller seals ``host``'s tasks to and checks its results with."""
    path = directory / "hosts" / host / "host.crt"
    if not path.exists():
        raise PkiError(path, f"no certificate for host '{host}': issue one with `celeryroot pki host {host}` "
                             "and install it on the host")
    cert = load_cert(path)
    _checked(trust, cert, HOST, host, path)
    return cert


def _checked(trust: Trust, cert: x509.Certificate, role: str, name: str | None, path: Path) -> None:
    try:
        trust.check(cert, role, name)
    except PkiError as exc:
        raise PkiError(path, exc.message) from None


# Issuing: what `celeryroot pki` does.

def init(directory: Path, controller: str = "controller") -> list[Path]:
    """A new CA and a controller identity in ``directory``."""
    if (directory / "ca.key").exists() or (directory / "ca.crt").exists():
        raise PkiError(directory / "ca.crt", "a CA is already here; it would orphan every certificate it issued")
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "celeryroot"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "celeryroot CA")])
    ca = (_builder(name, name, ca_key.public_key(), CA_DAYS)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    written = [_write_key(directory / "ca.key", ca_key), _write_cert(directory / "ca.crt", ca)]
    return written + _issue(directory, directory, "controller", controller, CONTROLLER)


def issue_host(directory: Path, host: str) -> list[Path]:
    """``hosts/HOST/``: the host's key, certificate and the CA, to install on it."""
    out = directory / "hosts" / host
    if (out / "host.crt").exists():
        raise PkiError(out / "host.crt", f"host '{host}' has a certificate; `celeryroot pki revoke {host}` first")
    out.mkdir(parents=True, exist_ok=True)
    written = _issue(directory, out, "host", host, HOST)
    return written + [_write_cert(out / "ca.crt", load_cert(directory / "ca.crt"))]


def revoke(directory: Path, name: str) -> x509.Certificate:
    """Add ``name``'s certificate (a host's, or the controller's) to crl.pem."""
    path = directory / "hosts" / name / "host.crt"
    if not path.exists() and (directory / "controller.crt").exists() \
            and common_name(load_cert(directory / "controller.crt")) == name:
        path = directory / "controller.crt"
    cert = load_cert(path)
    ca, ca_key = load_cert(directory / "ca.crt"), load_key(directory / "ca.key")
    now = datetime.datetime.now(datetime.timezone.utc)
    crl_path = directory / "crl.pem"
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca.subject).last_update(now)
               .next_update(now + datetime.timedelta(days=CA_DAYS)))
    if crl_path.exists():
        for entry in x509.load_pem_x509_crl(crl_path.read_bytes()):
            builder = builder.add_revoked_certificate(entry)
    entry = x509.RevokedCertificateBuilder().serial_number(cert.serial_number).revocation_date(now).build()
    crl = builder.add_revoked_certificate(entry).sign(ca_key, hashes.SHA256())
    atomic_write(str(crl_path), crl.public_bytes(serialization.Encoding.PEM), mode="0644")
    if path.parent.parent == directory / "hosts":
        for old in path.parent.iterdir():  # a revoked host's files are of no more use
            old.unlink()
        path.parent.rmdir()
    return cert


def _issue(directory: Path, out: Path, stem: str, name: str, role: str) -> list[Path]:
    ca, ca_key = load_cert(directory / "ca.crt"), load_key(directory / "ca.key")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "celeryroot"),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (_builder(subject, ca.subject, key.public_key(), IDENTITY_DAYS)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    return [_write_key(out / f"{stem}.key", key), _write_cert(out / f"{stem}.crt", cert)]


def _builder(subject: x509.Name, issuer: x509.Name, public_key, days: int) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))  # clocks a little apart
            .not_valid_after(now + datetime.timedelta(days=days)))


def _write_key(path: Path, key) -> Path:
    # The temp file is 0600 from its creation: the key is never readable by others.
    atomic_write(str(path), key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()), mode="0600")
    return path


def _write_cert(path: Path, cert: x509.Certificate) -> Path:
    atomic_write(str(path), cert.public_bytes(serialization.Encoding.PEM), mode="0644")
    return path
