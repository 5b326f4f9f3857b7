"""The envelope every task and every reply travels in over Redis.

A task is signed by its controller and sealed to its host; a reply is
signed by its host and sealed to the controller that asked. So whoever can
write to Redis can make a host run nothing, cannot pass off a result as
another host's, and reads only ciphertext (README: Threat model).

Why our own envelope and not Celery's ``auth`` serializer: that serializer
takes any certificate its CA issued as any sender and signs in the clear;
here a host must know *which* host a reply is from, a task must name the
host it is for, and arguments must be unreadable on the way. The envelope
is a JSON mapping (no pickle anywhere): signed fields, and a box:

- signature: ECDSA P-256 over SHA-256 of the other fields, in canonical
  JSON (sorted keys, no spaces);
- box: ECDH between a key made for this one message and the recipient's
  certificate key, HKDF-SHA256 bound to the message id and direction,
  AES-256-GCM.

A host refuses a task whose signature does not verify against a controller
certificate its CA issued and did not revoke, that names another host or
another task, that has expired, that it has run already, or that was
signed before the worker started (a redelivery after a crash). Only the
embedded local mode, whose broker lives in the controller's process, goes
without (`Unsealed`).
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections import OrderedDict

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .pki import CONTROLLER, Identity, PkiError, Trust, common_name

VERSION = 1
#: The reply state that says "the real state is inside the envelope".
SEALED = "SEALED"
_TASK, _REPLY = b"celeryroot task ", b"celeryroot reply "
_SIGNATURE = ec.ECDSA(hashes.SHA256())


class Refused(Exception):
    """Why a worker does not run a message (said without its payload)."""


class Forged(Exception):
    """Why the controller does not take a reply for its host's result."""


class ControllerSeal:
    """The controller's side: seals each task to its host, opens replies."""

    def __init__(self, identity: Identity, hosts: dict[str, x509.Certificate], unknown: dict[str, str]):
        self.identity = identity
        self.by = _b64(identity.cert_der)
        self.host_keys = {host: cert.public_key() for host, cert in hosts.items()}
        #: Hosts without a trusted certificate, and why: no task is sealed to them.
        self.unknown = unknown

    def seal_task(self, host: str, task_id: str, task: str, reply_to: str, args: list, ttl: float) -> list:
        now = _ms()
        head = {"v": VERSION, "by": self.by, "to": host, "id": task_id, "task": task, "reply": reply_to,
                "iat": now, "exp": now + int(ttl * 1000)}
        head.update(_box(self.host_keys[host], _TASK + task_id.encode(), _dumps(args)))
        head["sig"] = _b64(self.identity.key.sign(_canonical(head), _SIGNATURE))
        return [head]

    def open_reply(self, host: str, body: dict) -> tuple[str, object]:
        """The state and result of ``host``'s reply ``body``; `Forged` unless
        the host's own certificate signed it for this task."""
        sealed, task_id = body.get("result"), body.get("task_id")
        if body.get("status") != SEALED or not isinstance(sealed, dict):
            raise Forged(f"an unsigned reply came for {host}")
        try:
            self.host_keys[host].verify(_unb64(sealed.pop("sig")), _canonical(sealed), _SIGNATURE)
        except (KeyError, TypeError, ValueError, InvalidSignature):
            raise Forged(f"a reply for {host} is not signed by {host}'s certificate") from None
        if sealed.get("from") != host or sealed.get("id") != task_id:
            raise Forged(f"{host} signed a reply for another task or host (replayed?)")
        if "box" not in sealed:
            return sealed["state"], sealed.get("clear")
        try:
            return sealed["state"], json.loads(_unbox(self.identity.key, sealed, _REPLY + task_id.encode()))
        except (KeyError, ValueError, InvalidTag):
            raise Forged(f"the reply {host} signed cannot be opened with this controller's key") from None


class HostSeal:
    """A host's side: opens the tasks meant for it, signs its replies and
    seals them to the controller that sent the task."""

    sealing = True

    def __init__(self, identity: Identity, trust: Trust, host: str):
        self.identity = identity
        self.trust = trust
        self.host = host
        self.started = _ms()
        #: Controller certificates (as they travel) already checked against
        #: the CA: each one's key and common name.
        self.controllers: dict[str, tuple[ec.EllipticCurvePublicKey, str]] = {}
        #: Task ids run, with their expiry, oldest first; one past its expiry
        #: is refused as expired anyway, so it is forgotten.
        self.seen: OrderedDict[str, int] = OrderedDict()
        #: The controller each running task came from: its replies are sealed to it.
        self.peers: dict[str, ec.EllipticCurvePublicKey] = {}
        #: The common name of that controller's certificate, for the audit log.
        self.senders: dict[str, str] = {}

    def open_task(self, request, args: tuple) -> list:
        """The arguments of the message Celery hands the task; `Refused`
        unless it is a task for this host from a trusted controller."""
        head, controller, name = self._verified(args)
        if head.get("id") != request.id or head.get("task") != request.task or head.get("reply") != request.reply_to:
            raise Refused("the message's id, task or reply queue is not the one its controller signed")
        now = _ms()
        if head["iat"] < self.started:
            raise Refused("the message was signed before this worker started (a redelivery?)")
        while self.seen and next(iter(self.seen.values())) < now:
            self.seen.popitem(last=False)
        if request.id in self.seen:
            raise Refused("the message was run already (replayed)")
        self.seen[request.id] = head["exp"]
        opened = self._unboxed(head, request.id)
        self.peers[request.id] = controller
        self.senders[request.id] = name
        return opened

    def open_standing(self, task: str, name: str, sealed) -> tuple[list, ec.EllipticCurvePublicKey, str]:
        """A standing order (a drift schedule: worker/drift.py) kept in this
        host's keys: its arguments, the key of the controller that signed it
        and that controller's name; `Refused` unless a trusted controller
        signed it for this host, as ``task`` named ``name``, and it has not
        expired. Unlike a task it is meant to be read again and again, and
        to outlive the worker that first read it: neither replay nor age is
        refused, so only what may be run again and changes nothing (check
        mode) may be such an order."""
        head, controller, who = self._verified((sealed,))
        if head.get("task") != task or head.get("id") != name:
            raise Refused(f"the order is not the {task} {name!r} its controller signed")
        return self._unboxed(head, name), controller, who

    def _verified(self, args: tuple) -> tuple[dict, ec.EllipticCurvePublicKey, str]:
        """A message's signed fields, once its signature verifies against a
        trusted controller, it names this host and has not expired."""
        if len(args) != 1 or not isinstance(args[0], dict) or args[0].get("v") != VERSION:
            raise Refused("the message is not in a signed envelope")
        head = dict(args[0])
        controller, name = self._controller(head.get("by"))
        try:
            controller.verify(_unb64(head.pop("sig")), _canonical(head), _SIGNATURE)
        except (KeyError, TypeError, ValueError, InvalidSignature):
            raise Refused("the signature does not verify against the sender's certificate") from None
        if head.get("to") != self.host:
            raise Refused(f"the message is for host {head.get('to')!r}, not this one")
        if not isinstance(head.get("exp"), int) or _ms() > head["exp"]:
            raise Refused("the message has expired")
        if not isinstance(head.get("iat"), int):
            raise Refused("the message says not when it was signed")
        return head, controller, name

    def _unboxed(self, head: dict, message_id: str):
        try:
            return json.loads(_unbox(self.identity.key, head, _TASK + message_id.encode()))
        except (KeyError, ValueError, InvalidTag):
            raise Refused("the message cannot be opened with this host's key") from None

    def sender(self, task_id: str) -> str | None:
        """The common name of the controller that signed a running task."""
        return self.senders.get(task_id)

    def seal_reply(self, task_id: str, state: str, result, peer: ec.EllipticCurvePublicKey | None = None) -> dict:
        """A reply signed by this host; sealed to the task's controller once
        its envelope was opened (a refusal, or Celery's STARTED, is signed
        only), or to ``peer``, the controller a standing order came from."""
        head = {"v": VERSION, "from": self.host, "id": task_id, "state": state}
        peer = peer or self.peers.get(task_id)
        if peer is not None:
            head.update(_box(peer, _REPLY + task_id.encode(), _dumps(result)))
        else:
            head["clear"] = result
        head["sig"] = _b64(self.identity.key.sign(_canonical(head), _SIGNATURE))
        return head

    def own_note(self, note_id: str, sealed) -> object | None:
        """What this host signed in the clear as ``note_id`` (`seal_reply`
        without a peer): a note a worker leaves for the next one on this
        host (worker/drift.py); None for anything else."""
        try:
            head = dict(sealed)
            self.identity.key.public_key().verify(_unb64(head.pop("sig")), _canonical(head), _SIGNATURE)
        except (KeyError, TypeError, ValueError, InvalidSignature):
            return None
        return head.get("clear") if head.get("from") == self.host and head.get("id") == note_id else None

    def done(self, task_id: str) -> None:
        self.peers.pop(task_id, None)
        self.senders.pop(task_id, None)

    def _controller(self, by) -> tuple[ec.EllipticCurvePublicKey, str]:
        if not isinstance(by, str):
            raise Refused("the message names no sender certificate")
        known = self.controllers.get(by)
        if known is None:
            try:
                cert = x509.load_der_x509_certificate(_unb64(by))
                self.trust.check(cert, CONTROLLER)
            except (ValueError, TypeError, PkiError) as exc:
                raise Refused(f"the sender is not a trusted controller ({exc})") from None
            known = self.controllers[by] = (cert.public_key(), common_name(cert))
        return known


class Unsealed:
    """Both sides of the embedded local mode: its broker is in the
    controller's own memory, where an envelope would guard nothing."""

    sealing = False
    unknown: dict[str, str] = {}

    def seal_task(self, host, task_id, task, reply_to, args, ttl) -> list:
        return args

    def open_reply(self, host: str, body: dict) -> tuple[str, object]:
        return body.get("status"), body.get("result")

    def open_task(self, request, args: tuple) -> list:
        return list(args)

    def sender(self, task_id: str) -> None:
        return None

    def done(self, task_id: str) -> None:
        pass


def _box(recipient: ec.EllipticCurvePublicKey, info: bytes, data: bytes) -> dict:
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    nonce = os.urandom(12)
    key = _derive(ephemeral.exchange(ec.ECDH(), recipient), info)
    point = ephemeral.public_key().public_bytes(serialization.Encoding.X962,
                                                serialization.PublicFormat.CompressedPoint)
    return {"key": _b64(point), "nonce": _b64(nonce), "box": _b64(AESGCM(key).encrypt(nonce, data, info))}


def _unbox(private: ec.EllipticCurvePrivateKey, fields: dict, info: bytes) -> bytes:
    point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(fields["key"]))
    key = _derive(private.exchange(ec.ECDH(), point), info)
    return AESGCM(key).decrypt(_unb64(fields["nonce"]), _unb64(fields["box"]), info)


def _derive(shared: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(shared)


def _canonical(fields: dict) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _dumps(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=str).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text, validate=True)


def _ms() -> int:
    return int(time.time() * 1000)
