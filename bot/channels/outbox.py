"""Send the outbox through one notifier per platform: lease → send → mark.

Rows are leased in one short transaction, sent with no transaction open, then marked
sent (in the transaction of a later lease, or at the end of the pass) or failed (at
once); a failure the notifier reports as :class:`DeliveryFailed` reschedules
the row (``retry_after`` when the platform said how long to wait) and keeps the
recipient's later rows behind it. See storage/deliveries.py.

Recipients are served side by side (``RECIPIENTS_AT_ONCE`` lanes), each one's rows in order,
so one slow recipient holds up no one else. A row handed out before (its sender died
after the platform took the message) carries ``resend_since``: a notifier that can
look whether it arrived does so before sending again (Slack does).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import orjson
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.database import Database
from bot.channels.work import BackgroundWork
from bot.clock import Clock
from bot.observability.context import work_scope
from bot.observability.metrics import Metrics
from flows.messages import Message, message_from_json
from storage import deliveries, replies

log = logging.getLogger("coach.channels.outbox")
LEASE_SECONDS = 120
RECIPIENTS_AT_ONCE = 4  # lanes: each sends one recipient's rows, then takes the next
# Rows leased per channel at once: a pass waits for its slowest recipient before the next
# lease, so a larger batch keeps more sends in flight (a burst of due check-ins). Where a
# lease runs on the loop (SQLite: Database.run_background) a request arriving meanwhile
# waits for it, 6-9 ms for 200 rows. In a thread (PostgreSQL) each of a lease's round
# trips hands the GIL to and from the loop busy sending, so fewer, larger leases cost less:
# bench_dispatch A/B, 500 rows against 200, 290 -> 257 us of CPU per message.
LEASE_BATCH_ON_LOOP = 200
LEASE_BATCH_IN_THREADS = 500


@dataclass(frozen=True, slots=True)
class LeasedMessage:
    """One outbox row handed to a notifier: whom it goes to, in which tenant, and how
    to tell whether an earlier try arrived (its idempotency ``key``, ``resend_since``)."""

    id: int
    key: str
    tenant: str
    target: str  # the recipient's email
    message: Message
    plan_session: int | None  # an action plan the recipient may acknowledge
    resend_since: datetime | None
    recipient_id: str | None = None  # the recipient's stored user id on this channel


Recipient = tuple[str, str, str]  # channel, tenant, email: whose rows go out in order


class MessageCache:
    """The messages of one lease, each read from its JSON text once: a burst of due
    check-ins is the same message to many people (and one Message, so it is rendered once
    too)."""

    def __init__(self) -> None:
        self._read: dict[str, Message] = {}

    def get(self, text: str) -> Message:
        message = self._read.get(text)
        if message is None:
            message = self._read[text] = message_from_json(orjson.loads(text))
        return message


class DeliveryFailed(Exception):
    """A send that may work later; ``retry_after`` in seconds when the platform said so."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Notifier(Protocol):
    """Sends one leased message on one platform, or raises :class:`DeliveryFailed`."""

    channel: str

    async def send(self, row: LeasedMessage) -> None: ...


class OutboxWorker:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, database: Database,
                 notifiers: Iterable[Notifier] = (), delay: float = 0.0,
                 lease_seconds: float = LEASE_SECONDS, metrics: Metrics | None = None) -> None:
        self.sessions, self.clock, self.database = sessions, clock, database
        self.metrics = metrics or Metrics()
        self.lease_seconds = lease_seconds
        self.lease_batch = LEASE_BATCH_IN_THREADS if database.threaded else LEASE_BATCH_ON_LOOP
        self.notifiers: dict[str, Notifier] = {n.channel: n for n in notifiers}
        self.delay = delay
        self._lock = asyncio.Lock()
        self._again = False
        self._scheduled = False

    def register(self, notifier: Notifier) -> None:
        """Send the rows of ``notifier.channel`` through it from now on."""
        self.notifiers[notifier.channel] = notifier

    def wake(self, work: BackgroundWork) -> None:
        """After a turn: one pass soon (``delay`` gathers the turns of a busy moment)."""
        if self._scheduled or not self.notifiers:
            return
        self._scheduled = True
        work.spawn(self._soon())

    async def _soon(self) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        self._scheduled = False
        await self.run_once()

    async def forever(self, every: float, stopping: asyncio.Event | None = None) -> None:
        """Catch up on rows that were rescheduled (429, 5xx, unknown recipient), until
        ``stopping`` is set: then a pass in progress finishes first (cancelled mid-send,
        its rows would wait out their lease)."""
        stopping = stopping or asyncio.Event()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), every)
            if stopping.is_set():
                return
            try:
                await self.run_once()
            except Exception:
                self.metrics.failed("outbox")
                log.exception("outbox pass failed")

    async def run_once(self) -> int:
        """Send every due row once; return how many were sent. Passes never overlap.

        The next batch is leased while this one is being sent, and sent once this one is
        done, so each recipient's messages still go out in order; a recipient whose send
        failed in this pass has their later rows held behind the failed one."""
        if self._lock.locked():
            self._again = True
            return 0
        with work_scope("outbox"):  # a pass sends for many requests: an id of its own
            return await self._pass()

    async def _pass(self) -> int:
        """The rows that went out are marked sent in the transaction of the lease after
        next (one transaction less per batch; that lease starts once they are sent), and
        the last ones at the end of the pass. A process killed before their mark leaves
        them to be looked for, not blindly sent again (``resend_since``)."""
        total = 0
        held: dict[Recipient, int] = {}  # recipient → the row of theirs that failed
        unmarked: list[int] = []  # sent in this pass, not marked yet
        async with self._lock:
            self._again = False
            try:
                rows = await self.database.run_background(self._lease, [])
                while True:
                    while rows:
                        self._again = False  # the lease starting now sees all committed so far
                        marking, unmarked = unmarked, []
                        upcoming = asyncio.ensure_future(
                            self.database.run_background(self._lease, marking))
                        try:
                            total += await self._send_all(rows, held, unmarked)
                        finally:
                            rows = await upcoming  # a failed pass leaves these to their lease
                    if not self._again:
                        return total
                    self._again = False
                    marking, unmarked = unmarked, []
                    rows = await self.database.run_background(self._lease, marking)
            finally:
                if unmarked:
                    await self.database.run_background(self._mark, unmarked)

    async def _send_all(self, rows: Sequence[tuple[str, LeasedMessage]],
                        held: dict[Recipient, int], sent: list[int]) -> int:
        """Each recipient's rows in order, RECIPIENTS_AT_ONCE recipients at a time (lanes
        taking the next recipient when one is done); the ids that went out are added to
        ``sent``. A recipient whose row failed earlier in the pass has the rest held."""
        queues: dict[Recipient, list[tuple[str, LeasedMessage]]] = {}
        for channel, row in rows:
            queues.setdefault((channel, row.tenant, row.target), []).append((channel, row))
        waiting = collections.deque(queues.items())
        errors: list[BaseException] = []
        before = len(sent)

        async def one_recipient(recipient: Recipient,
                                queue: list[tuple[str, LeasedMessage]]) -> None:
            if recipient in held:  # an earlier row of theirs failed in this pass
                await self.database.run(self._hold, held[recipient], [r.id for _, r in queue])
                return
            for index, (channel, row) in enumerate(queue):
                behind = [r.id for _, r in queue[index + 1:]]
                if not await self._send(self.notifiers[channel], row, behind):
                    held[recipient] = row.id
                    return
                sent.append(row.id)

        async def lane() -> None:
            while waiting:
                recipient, queue = waiting.popleft()
                try:
                    await one_recipient(recipient, queue)
                except Exception as exc:  # noqa: BLE001 - reported once every recipient had a turn
                    errors.append(exc)

        await asyncio.gather(*(lane() for _ in range(min(RECIPIENTS_AT_ONCE, len(waiting)))))
        if errors:
            raise errors[0]
        return len(sent) - before

    def _lease(self, sent: list[int]) -> list[tuple[str, LeasedMessage]]:
        """Mark ``sent`` (rows that went out) and lease the next due rows of each channel,
        in one transaction."""
        leased: list[tuple[str, LeasedMessage]] = []
        with self.sessions.begin() as db:
            now = self.clock.now()
            if sent:
                deliveries.mark_all_sent(db, sent, now)
            for channel in self.notifiers:
                leases = deliveries.lease_due(db, channel=channel, now=now,
                                              lease_seconds=self.lease_seconds,
                                              limit=self.lease_batch)
                recipients = [(lease.row.tenant or "", lease.row.target) for lease in leases]
                ids = deliveries.recipient_ids(db, channel, set(recipients))
                messages = MessageCache()
                for lease, recipient in zip(leases, recipients, strict=True):
                    row = lease.row
                    leased.append((channel, LeasedMessage(
                        row.id, row.idempotency_key, recipient[0], row.target,
                        messages.get(row.message),
                        deliveries.plan_session(db, row), lease.resend_since,
                        ids.get(recipient))))
        return leased

    async def _send(self, notifier: Notifier, row: LeasedMessage, behind: list[int]) -> bool:
        """Send one row; False when it failed (it is rescheduled, with those ``behind``)."""
        try:
            if row.message.private and not replies.is_reply(row.key):
                # a manager's note never goes to anyone else (a reply goes to its speaker)
                raise DeliveryFailed("a private message is never sent to someone else")
            await notifier.send(row)
        except DeliveryFailed as exc:
            self.metrics.delivered(notifier.channel, sent=False)
            log.warning("%s delivery %s failed: %s", notifier.channel, row.id, exc)
            await self.database.run(self._mark_failed, row.id, str(exc), exc.retry_after,
                                    behind)
            return False
        self.metrics.delivered(notifier.channel, sent=True)
        return True

    def _mark(self, row_ids: list[int]) -> None:
        with self.sessions.begin() as db:
            deliveries.mark_all_sent(db, row_ids, self.clock.now())

    def _hold(self, failed_id: int, row_ids: list[int]) -> None:
        with self.sessions.begin() as db:
            deliveries.hold_behind(db, failed_id, row_ids, self.clock.now())

    def _mark_failed(self, row_id: int, error: str, wait: float | None,
                     behind: list[int]) -> None:
        with self.sessions.begin() as db:
            deliveries.mark_failed(db, row_id, self.clock.now(), error, wait, behind)
