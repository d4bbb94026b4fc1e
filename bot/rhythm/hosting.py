"""The operating rhythm in ``coach serve``: an APScheduler ``AsyncIOScheduler`` on the
elected process (bot/rhythm/leader.py) runs the due work every few seconds, then wakes
the outbox worker to send what it queued.

The due work is one synchronous callable of the clock's time (``run_due`` of
bot/rhythm/due.py, the same function ``coach chat`` runs when its clock moves and
``coach scheduler run-due`` runs once); it runs off the event loop through
:class:`bot.channels.database.Database`. It queues each message under an idempotency
key, so the scheduler keeps no state of its own: no job store, nothing lost in a
restart, and a tick that runs twice (a late one, a second replica in the seconds
around a lost leader) queues nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from aiohttp import web
from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.bootstrap import App
from bot.channels.directory import Finder
from bot.channels.gateway import Gateway
from bot.channels.who import Who
from bot.clock import Clock
from bot.llm.wiring import narrative_hold, narrator_for
from bot.observability.context import work_scope
from bot.rhythm.delivery import Unreached
from bot.rhythm.due import CONSOLE, DueReport, rhythm_of, run_due
from bot.rhythm.leader import Candidate, campaign, candidate_for, process_name
from storage.db import is_busy

log = logging.getLogger("coach.rhythm")
DueWork = Callable[[datetime], object]  # queues what is due at that time; returns a report
AfterTick = Callable[[], Awaitable[object]]  # model work on what a tick queued (a narrative)
DUE_JOB = "rhythm.due"  # the one job: a stable id, so a re-election replaces it
CHECK_EVERY = 5.0  # seconds between the leader's checks that it still holds its claim
LOOK_AGAIN = timedelta(hours=1)  # someone not found by email is looked up again after this
FIND_AT_ONCE = 8  # people looked up side by side (the platforms' rate limits)
STOP_WAIT = 30.0  # seconds a tick in progress may take to finish at shutdown


class RhythmHost:
    """Runs ``due_work`` every ``every`` seconds while this process leads.

    The job: an interval trigger in UTC (the due work reads local times itself);
    ``coalesce``: runs missed while the loop was stalled become one; ``misfire_grace_time``
    of a whole interval: a late tick still runs (APScheduler's default of 1 s would drop it
    on a busy machine and wait for the next); ``max_instances=1``: ticks never overlap. A
    new leader runs a tick at once (catching up after the old leader died).

    ``finders``: by platform, how someone the platform has not shown us yet is found by
    email (bot/channels/directory.py). The due work names the people it could not reach
    (``DueReport.unreached``); each is looked up, and when one is found the due work runs
    again at once (their check-in turn runs now). Someone not found is looked up again
    after ``LOOK_AGAIN`` and logged once."""

    def __init__(self, due_work: DueWork, gateway: Gateway, clock: Clock,
                 candidate: Candidate, *, every: float, retry_every: float,
                 check_every: float = CHECK_EVERY, name: str | None = None,
                 finders: Mapping[str, Finder] | None = None,
                 after_tick: AfterTick | None = None) -> None:
        self.due_work, self.gateway, self.clock = due_work, gateway, clock
        self.after_tick = after_tick  # run after each tick, in the background
        self.candidate = candidate
        self.every, self.retry_every, self.check_every = every, retry_every, check_every
        self.name = name or process_name()
        self.finders = dict(finders or {})
        self.scheduler: AsyncIOScheduler | None = None
        self.ticks = 0  # due-work runs completed by this process (logs, tests)
        self._ticking = asyncio.Lock()
        self._not_found: dict[Unreached, datetime] = {}  # when each was last looked up
        self._logged: set[Unreached] = set()  # told once in the log

    @property
    def leading(self) -> bool:
        return self.scheduler is not None

    async def tick(self) -> None:
        """One run of the due work, then an outbox pass. A failure is logged and the next
        tick tries again (the due work is idempotent)."""
        async with self._ticking:
            if self.scheduler is None:  # deposed while this tick waited
                return
            with work_scope("tick"):
                await self._run_due_work()

    async def _run_due_work(self) -> None:
        try:
            report = await self.gateway.database.run(self.due_work, self.clock.now())
        except Exception as exc:
            if is_busy(exc):
                log.warning("due work skipped: the database is busy; next tick retries")
            else:
                self.gateway.metrics.failed("due_work")
                log.exception("due work failed; the next tick tries again")
            return
        if isinstance(report, DueReport) and report.unreached:
            try:
                if await self.reach(report.unreached):  # their turns run now
                    report = await self.gateway.database.run(self.due_work, self.clock.now())
            except Exception:
                log.exception("looking people up failed; the next tick tries again")
        self.ticks += 1
        self.gateway.metrics.due_work_ran()
        log.info("due work ran: %s", report)
        self.gateway.outbox.wake(self.gateway.background)  # what it queued goes out now
        if self.after_tick is not None:
            self.gateway.background.spawn(self._after(self.after_tick))

    async def reach(self, people: Iterable[Unreached]) -> bool:
        """Look each person up on their platform (a few at a time); True when any was
        found. One not found is asked again after ``LOOK_AGAIN``, and logged once."""
        now = self.clock.now()
        due = [p for p in people if p.platform in self.finders
               and now - self._not_found.get(p, now - LOOK_AGAIN) >= LOOK_AGAIN]
        slots = asyncio.Semaphore(FIND_AT_ONCE)

        async def find(person: Unreached) -> bool:
            async with slots:
                return await self.finders[person.platform].find(person.tenant, person.email)

        found = await asyncio.gather(*(find(p) for p in due))
        for person, ok in zip(due, found, strict=True):
            if ok:
                self._not_found.pop(person, None)
                self._logged.discard(person)
                continue
            self._not_found[person] = now
            if person not in self._logged:
                self._logged.add(person)
                log.warning("%s cannot be reached on %s yet (not found by email there, or "
                            "the app is not installed for them): their messages wait",
                            person.email, person.platform)
        return any(found)

    async def _after(self, work: AfterTick) -> None:
        """The model's part (the digests' narrative): never the tick's, whose due work has
        committed; what it releases goes out at once."""
        try:
            await work()
        except Exception:
            log.exception("model work after the tick failed; the digests go as they are")
        self.gateway.outbox.wake(self.gateway.background)

    async def elected(self) -> None:
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(self.tick, IntervalTrigger(seconds=self.every, timezone=UTC),
                          id=DUE_JOB, name="the operating rhythm's due work",
                          replace_existing=True, coalesce=True, max_instances=1,
                          misfire_grace_time=max(1, round(self.every)),
                          next_run_time=datetime.now(UTC))
        scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        scheduler.start()
        self.scheduler = scheduler
        self.gateway.metrics.leading(True)

    def _submitted(self, event: JobSubmissionEvent) -> None:
        """The scheduler's lag: how late this run starts after the earliest time it was
        due (runs missed while the loop was stalled are coalesced into this one)."""
        due = min(event.scheduled_run_times)
        self.gateway.metrics.due_work_started((datetime.now(UTC) - due).total_seconds())

    async def deposed(self) -> None:
        """Stop the scheduler; a tick in progress finishes first (APScheduler's asyncio
        executor would cancel it, leaving its database work running in a thread)."""
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is None:
            return
        self.gateway.metrics.leading(False)
        scheduler.pause()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_WAIT):
                async with self._ticking:
                    pass
        scheduler.shutdown(wait=False)

    async def lifetime(self, web_app: web.Application) -> AsyncIterator[None]:
        """For ``coach serve``'s cleanup context: campaign from start to shutdown; at
        shutdown the scheduler stops (its tick done) and the claim is released, so
        another replica takes over at its next try."""
        election = asyncio.create_task(campaign(
            self.candidate, elected=self.elected, deposed=self.deposed,
            retry_every=self.retry_every, check_every=self.check_every, name=self.name))
        yield
        election.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await election
        await self.deposed()
        await self.candidate.release()


def rhythm_host(app: App, gateway: Gateway, due_work: DueWork,
                finders: Mapping[str, Finder] | None = None) -> RhythmHost:
    """The scheduler of ``coach serve`` for this app's database and settings."""
    settings = app.settings
    narrator = narrator_for(settings, app.playbook, gateway.assistant, app.engine,
                            gateway.database.run, app.clock.now)
    return RhythmHost(due_work, gateway, app.clock, candidate_for(app.engine.url),
                      every=settings.coach_scheduler_interval,
                      retry_every=settings.coach_leader_retry, finders=finders,
                      after_tick=narrator.run_once if narrator is not None else None)


def due_work_for(app: App, platforms: Sequence[str] = ()) -> DueWork:
    """The operating rhythm's due work for ``coach serve`` (bot/rhythm/due.py run_due).

    ``platforms``: the surfaces this process serves, in order; the first is where someone
    bound to no platform is reached (Slack finds them by email; the console when none)."""
    default = Who(platforms[0], "", "") if platforms else CONSOLE
    return functools.partial(run_due, rhythm_of(app.sessions, app.playbook, app.runner,
                                                default, narrative_hold(app.settings,
                                                                        app.playbook)))


