"""Reaching the broker: kombu's own retries, and one clear line about them.

The controller waits a bounded time and gives up (exit status 1); a worker
is a long-lived service and waits for as long as it takes. Both say once
what they are retrying, with the URL's password masked, instead of kombu's
silence or Celery's log line per attempt. A TLS handshake refused (the
broker's certificate, or ours) does not mend within the controller's wait:
it ends the run at once.
"""

from __future__ import annotations

import ssl
import sys

from kombu.exceptions import OperationalError
from redis.sentinel import MasterNotFoundError

from .config import masked


#: Seconds between attempts; a refused connection fails at once, so this
#: is what the attempts cost.
RETRY_EVERY = 1.0


class BrokerUnreachable(OperationalError):
    """The broker did not answer within the controller's wait."""


class BrokerLost(OperationalError):
    """The broker went away mid-run and did not come back within the wait."""


def reach(connection, url: str, wait: float | None, say=None) -> None:
    """Connect ``connection`` (to ``url``), retrying for ``wait`` seconds (None: forever).

    ``say`` receives the one line announcing the retries (default: stderr).
    """
    say = say or (lambda text: print(text, file=sys.stderr, flush=True))
    # Not kombu's as_uri(): it shows a masked password even where there is none.
    url = masked(url)
    until = f"for {wait:g} s" if wait is not None else "until it answers"
    said = []

    def announce(exc, interval):
        refused = tls_refusal(exc)
        if refused and wait is not None:
            raise BrokerUnreachable(f"{url}: {refused}")
        if not said:
            said.append(True)
            say(f"cannot reach the broker at {url} ({reason(exc)}); retrying {until}…")

    try:
        connection.ensure_connection(errback=announce, max_retries=None, interval_start=RETRY_EVERY,
                                     interval_step=0, interval_max=RETRY_EVERY, timeout=wait)
    except BrokerUnreachable:
        raise
    except OperationalError as exc:
        raise BrokerUnreachable(f"{url} did not answer within {wait:g} s ({reason(exc)})") from None


def reason(exc: BaseException) -> str:
    """The system's word for a failed connection (``Connection refused``),
    which redis-py wraps in a sentence that repeats host and port."""
    refused = tls_refusal(exc)
    if refused:
        return refused
    for seen in _causes(exc):
        if isinstance(seen, MasterNotFoundError):
            # Its text goes on with the repr of every Sentinel's client.
            head, _, unanswered = str(seen).partition(" : ")
            return head + ("; not every Sentinel answered" if unanswered else "")
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror
    return str(exc).rstrip(".")


def tls_refusal(exc: BaseException) -> str | None:
    """Why TLS refused the connection, if it did: the broker's certificate
    failed our checks (its CA, its name), or the broker refused ours (a TLS
    alert, such as "certificate required")."""
    for seen in _causes(exc):
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"TLS: the broker's certificate is not accepted: {seen.verify_message}"
        if isinstance(seen, ssl.SSLError) and "ALERT" in (seen.reason or ""):
            return f"TLS: the broker refused the connection: {seen.reason.lower().replace('_', ' ')}"
    return None


def _causes(exc: BaseException):
    seen = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__
