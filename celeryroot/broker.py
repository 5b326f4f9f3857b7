"""Reaching the broker: kombu's own retries, and one clear line about them.

The controller waits a bounded time and gives up (exit status 1); a worker
is a long-lived service and waits for as long as it takes. Both say once
what they are retrying, with the URL's password masked, instead of kombu's
silence or Celery's log line per attempt.
"""

from __future__ import annotations

import sys

from kombu.exceptions import OperationalError

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
        if not said:
            said.append(True)
            say(f"cannot reach the broker at {url} ({reason(exc)}); retrying {until}…")

    try:
        connection.ensure_connection(errback=announce, max_retries=None, interval_start=RETRY_EVERY,
                                     interval_step=0, interval_max=RETRY_EVERY, timeout=wait)
    except OperationalError as exc:
        raise BrokerUnreachable(f"{url} did not answer within {wait:g} s ({reason(exc)})") from None


def reason(exc: BaseException) -> str:
    """The system's word for a failed connection (``Connection refused``),
    which redis-py wraps in a sentence that repeats host and port."""
    seen = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror
        seen = seen.__cause__ or seen.__context__
    return str(exc).rstrip(".")
