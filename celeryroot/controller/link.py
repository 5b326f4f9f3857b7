"""One broker as a run sees it: the piece the dispatcher uses once per broker.

A link holds the run's connection to one broker, its producer and the
consumer of the run's reply queue there (every broker has one of the same
name: a worker answers on its own broker), the plain client of that Redis
(heartbeats, the lease, run locks, facts, pending handlers) and the hosts'
liveness read from it. A broker that does not answer at the start is
``down`` for the whole run: its hosts are unreachable, the others go on.
"""

from __future__ import annotations

import socket
import time
from collections import deque

from kombu import Consumer, Exchange, Producer, Queue
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from ..broker import BrokerLost, BrokerUnreachable, reach
from ..config import REPLY_PREFIX, masked
from ..messages import connection

#: What a broker lost under a drain raises, from kombu, redis-py or the socket.
LOST = (OperationalError, RedisConnectionError, ConnectionError)


class Link:
    def __init__(self, name: str, url: str, client, liveness, run_id: str):
        self.name, self.url = name, url
        self.client = client
        self.liveness = liveness
        self.reply_queue = Queue(REPLY_PREFIX + run_id, Exchange(""), routing_key=REPLY_PREFIX + run_id,
                                 durable=False, auto_delete=True)
        self.inbox: deque = deque()
        #: Why this broker serves no host of the run (None: it does).
        self.down: str | None = None
        #: When the connection was last made again after a loss.
        self.reconnected: float | None = None
        #: The hosts' run locks here (controller/lease.py); None: no lock is taken.
        self.locks = None
        self.connection = None

    def open(self, wait: float) -> None:
        """Connect (retrying for ``wait`` seconds: `BrokerUnreachable`) and consume the reply queue."""
        self.connection = connection(self.url)
        reach(self.connection, self.url, wait)
        self._attach()

    def _attach(self) -> None:
        self.producer = Producer(self.connection)
        self.consumer = Consumer(self.connection, queues=[self.reply_queue], callbacks=[self._on_reply],
                                 accept=["json"], no_ack=True)
        self.consumer.consume()

    def _on_reply(self, body, message) -> None:
        self.inbox.append(body)

    def drain(self, wait: float, broker_wait: float) -> None:
        """Take in what arrived within ``wait`` seconds; a lost broker is
        waited for up to ``broker_wait`` seconds, else `BrokerLost`."""
        try:
            self.connection.drain_events(timeout=wait)
        except socket.timeout:
            pass
        except LOST as exc:
            self._reconnect(exc, broker_wait)

    def _reconnect(self, exc: Exception, broker_wait: float) -> None:
        self.connection.collect()  # the lost socket's channels; the next connect makes new ones
        try:
            reach(self.connection, self.url, broker_wait)
        except BrokerUnreachable:
            raise BrokerLost(f"lost the broker at {masked(self.url)} mid-run ({exc}) and it did not come back "
                             f"within {broker_wait:g} s") from None
        self._attach()
        self.reconnected = time.monotonic()

    def close(self) -> None:
        if self.connection is None:
            return
        try:
            if self.down is None:
                self.consumer.cancel()
                self.reply_queue.bind(self.connection.default_channel).delete()
        except LOST:
            pass  # a broker lost for good: the reply queue lapses there by itself (REPLY_TTL)
        finally:
            self.connection.release()
