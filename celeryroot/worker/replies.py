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
"""

from __future__ import annotations

import logging

from celery.backends.rpc import RPCBackend
from celery.states import READY_STATES
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from ..config import REPLY_TTL
from ..envelope import SEALED

log = logging.getLogger("celeryroot.worker")

#: Seconds a reply waits for the broker before it is given up.
REPLY_PATIENCE = 60


class ReplyBackend(RPCBackend):
    retry_policy = {"max_retries": REPLY_PATIENCE, "interval_start": 0, "interval_step": 1, "interval_max": 1}

    def store_result(self, task_id, result, state, traceback=None, request=None, **kwargs):
        seal, sent, sent_state = self.app.seal, result, state
        if seal.sealing:
            # A traceback would travel beside the envelope, in the clear.
            sent, sent_state, traceback = seal.seal_reply(task_id, state, self.encode_result(result, state)), \
                SEALED, None
        try:
            super().store_result(task_id, sent, sent_state, traceback=traceback, request=request, **kwargs)
            if self.app.keys is not None:  # None: the embedded mode, no Redis
                # The LPUSH made the queue if the run's controller is gone: it then lapses.
                self.app.keys.expire(self.destination_for(task_id, request)[0], REPLY_TTL)
        except (OperationalError, RedisConnectionError) as exc:
            log.warning("the %s reply of task %s is lost: the broker did not answer for %d s (%s)",
                        state, task_id, REPLY_PATIENCE, exc)
        finally:
            if state in READY_STATES:
                seal.done(task_id)
        return result


#: The setting that names this backend (Celery loads it by name, with the rpc URL).
BACKEND = f"{__name__}:{ReplyBackend.__qualname__}+rpc://"
