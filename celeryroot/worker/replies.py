"""How a worker sends a result back: Celery's rpc backend, made to outlast
a broker outage.

The stock backend retries a reply for about 20 s, then raises; with the
solo pool that error leaves the consumer's loop and the worker stops for
good ("Unrecoverable error") — the one case where losing Redis kills a
worker. Here a reply waits up to ``REPLY_PATIENCE`` seconds for the broker
and is then given up: the run that asked has by then taken the host for
unreachable (its heartbeat lapsed with the broker), and the worker goes on
to serve the next run once Redis is back.

Every reply leaves signed by this host (envelope.py): Celery's STARTED,
a bundle's PROGRESS, the result or error. Its state travels inside the
envelope; the message says only ``SEALED``.

A reply is laid into the run's reply list as kombu's Redis transport lays
a message (what the controller's kombu consumer reads), through the
worker's own named connection, with the list's expiry in the same round
trip: Celery's producer would open two connections more per worker, and
a fleet shares the broker's ``maxclients``.
"""

from __future__ import annotations

import base64
import logging
import time
import uuid

from celery.backends.rpc import RPCBackend
from celery.states import READY_STATES
from kombu.exceptions import OperationalError
from kombu.utils.json import dumps
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..config import REPLY_TTL
from ..envelope import SEALED

log = logging.getLogger("celeryroot.worker")

#: Seconds a reply waits for the broker before it is given up.
REPLY_PATIENCE = 60


class ReplyBackend(RPCBackend):

    def store_result(self, task_id, result, state, traceback=None, request=None, **kwargs):
        seal, sent, sent_state = self.app.seal, result, state
        if seal.sealing:
            # A traceback would travel beside the envelope, in the clear.
            sent, sent_state, traceback = seal.seal_reply(task_id, state, self.encode_result(result, state)), \
                SEALED, None
        try:
            if self.app.keys is None:  # the embedded mode: kombu's in-memory transport, no Redis
                super().store_result(task_id, sent, sent_state, traceback=traceback, request=request, **kwargs)
            else:
                self._push(task_id, self._to_result(task_id, sent_state, sent, traceback, request), request)
        except (OperationalError, RedisConnectionError, RedisTimeoutError) as exc:
            log.warning("the %s reply of task %s is lost: the broker did not answer for %d s (%s)",
                        state, task_id, REPLY_PATIENCE, exc)
        finally:
            if state in READY_STATES:
                seal.done(task_id)
        return result

    def _push(self, task_id: str, meta: dict, request) -> None:
        queue, correlation_id = self.destination_for(task_id, request)
        if not queue:
            return
        message = dumps({"body": base64.b64encode(dumps(meta).encode()).decode(), "content-encoding": "utf-8",
                         "content-type": "application/json", "headers": {},
                         "properties": {"correlation_id": correlation_id, "delivery_mode": self.delivery_mode,
                                        "delivery_info": {"exchange": "", "routing_key": queue}, "priority": 0,
                                        "body_encoding": "base64", "delivery_tag": str(uuid.uuid4())}})
        deadline = time.monotonic() + REPLY_PATIENCE
        while True:
            try:
                # The LPUSH makes the list if the run's controller is gone: it then lapses.
                with self.app.keys.pipeline(transaction=True) as pipe:
                    pipe.lpush(queue, message).expire(queue, REPLY_TTL).execute()
                return
            except (RedisConnectionError, RedisTimeoutError):
                if time.monotonic() >= deadline:
                    raise
                time.sleep(1)


#: The setting that names this backend (Celery loads it by name, with the rpc URL).
BACKEND = f"{__name__}:{ReplyBackend.__qualname__}+rpc://"
