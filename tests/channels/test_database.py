"""Where database work runs after the ack: ``Database.run``, through a pool of threads, or
for SQLite the lane (on the loop in stretches, one item at a time)."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from bot.channels.database import Database, DatabaseLane


async def test_items_run_in_order_and_requests_are_answered_in_between() -> None:
    worker = DatabaseLane()
    done: list[int] = []
    seen: list[int] = []  # how many items had run each time the "request" got the loop

    def item(n: int) -> int:
        time.sleep(0.005)  # a turn's worth of CPU
        done.append(n)
        return n * 10

    async def request() -> None:
        for _ in range(6):
            seen.append(len(done))
            await asyncio.sleep(0)

    results, _ = await asyncio.gather(
        asyncio.gather(*(worker.run(lambda n=n: item(n)) for n in range(5))), request())
    assert results == [0, 10, 20, 30, 40]
    assert done == [0, 1, 2, 3, 4]
    # Never more than one item between two steps of the request: a burst of turns
    # cannot hold back a request that arrives meanwhile.
    assert all(b - a <= 1 for a, b in itertools.pairwise(seen))
    assert seen[0] < 2  # it got in before the burst was over


async def test_a_failing_item_fails_its_caller_only() -> None:
    worker = DatabaseLane()

    def boom() -> None:
        raise RuntimeError("disk on fire")

    failing = asyncio.ensure_future(worker.run(boom))
    fine = asyncio.ensure_future(worker.run(lambda: "ok"))
    with pytest.raises(RuntimeError, match="disk on fire"):
        await failing
    assert await fine == "ok"


async def test_a_cancelled_caller_skips_its_item() -> None:
    worker = DatabaseLane()
    ran: list[str] = []
    first = asyncio.ensure_future(worker.run(lambda: ran.append("first")))
    second = asyncio.ensure_future(worker.run(lambda: ran.append("second")))
    await asyncio.sleep(0)
    second.cancel()
    await first
    await asyncio.sleep(0.01)
    assert ran == ["first"]


async def test_the_lane_leaves_the_thread_when_requests_keep_arriving() -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    main = threading.current_thread().name
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="coach-db") as pool:
        worker = DatabaseLane(pool)
        assert (await worker.run(lambda: threading.current_thread().name)).startswith("coach-db")

        def slow() -> str:
            time.sleep(0.05)  # long enough for the burst below to arrive meanwhile
            return threading.current_thread().name

        first = asyncio.ensure_future(worker.run(slow))
        await asyncio.sleep(0.01)
        burst = [asyncio.ensure_future(worker.run(lambda: threading.current_thread().name))
                 for _ in range(DatabaseLane.BUSY_ARRIVALS)]
        assert (await first).startswith("coach-db")
        assert await asyncio.gather(*burst) == [main] * DatabaseLane.BUSY_ARRIVALS
        # Quiet again: the next item starts in the thread.
        assert (await worker.run(lambda: threading.current_thread().name)).startswith("coach-db")


async def test_the_tail_of_a_burst_runs_on_the_loop() -> None:
    """Items still waiting while nothing new comes in: nobody waits for an ack."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    main = threading.current_thread().name
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="coach-db") as pool:
        worker = DatabaseLane(pool)
        names = await asyncio.gather(*(worker.run(lambda: threading.current_thread().name)
                                       for _ in range(4)))
    assert names[0].startswith("coach-db")  # no backlog seen yet
    assert names[1:] == [main] * 3  # queued already, and nothing arrived meanwhile


@pytest.mark.parametrize("threaded", [True, False], ids=["pool", "lane"])
async def test_database_run_passes_arguments_and_returns_or_raises(tmp_path: Path,
                                                                   threaded: bool) -> None:
    """One typed call for either path: positional and keyword arguments in, the value (or
    the exception) out."""
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    database = Database(engine, threaded=threaded)

    def add(a: int, b: int = 0) -> int:
        return a + b

    def fail() -> None:
        raise LookupError("gone")

    try:
        assert await database.run(add, 2, b=3) == 5
        with pytest.raises(LookupError):
            await database.run(fail)
    finally:
        database.close()
        engine.dispose()


async def test_background_work_runs_on_the_loop_in_its_turn_unless_another_process_holds_sqlite(
        ) -> None:
    """The outbox's leases (Database.run_background): on the loop, after what was queued
    before them; in the thread again once an item found the database held by another
    process (a busy timeout is never waited out on the loop)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from storage.db import DatabaseBusy

    main = threading.current_thread().name
    order: list[str] = []

    def named(label: str) -> str:
        order.append(label)
        return threading.current_thread().name

    def held() -> None:
        raise DatabaseBusy("another process held the write lock")

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="coach-db") as pool:
        worker = DatabaseLane(pool)
        turn = asyncio.ensure_future(worker.run(lambda: named("turn")))
        background = asyncio.ensure_future(worker.run(lambda: named("lease"), on_loop=True))
        assert (await turn).startswith("coach-db")
        assert await background == main
        assert order == ["turn", "lease"]  # in its turn: never beside the turn's writes

        with pytest.raises(DatabaseBusy):
            await worker.run(held, on_loop=True)
        assert (await worker.run(lambda: named("lease"), on_loop=True)).startswith("coach-db")
        assert await worker.run(lambda: named("lease"), on_loop=True) == main  # free again


async def test_database_background_work_on_sqlite_runs_on_the_loop(tmp_path: Path) -> None:
    import threading

    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    database = Database(engine)
    try:
        name = await database.run_background(lambda: threading.current_thread().name)
        assert name == threading.current_thread().name
        assert (await database.run(lambda: threading.current_thread().name)).startswith(
            "coach-db")
    finally:
        database.close()
        engine.dispose()


class SteppedClock:
    """The lane's monotonic clock, moved by the items themselves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_loop_first_lane_runs_items_on_the_loop_while_requests_are_few() -> None:
    """Where every request waits for its turn anyway (Teams), a hop to the thread and back
    is CPU for nothing: one item at a time, quiet, still on the loop."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    main = threading.current_thread().name
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="coach-db") as pool:
        worker = DatabaseLane(pool, loop_first=True)
        for _ in range(3):
            assert await worker.run(lambda: threading.current_thread().name,
                                    answering=True) == main
        # work no request waits for (a scheduler's tick) may take long: the thread
        assert (await worker.run(lambda: threading.current_thread().name)
                ).startswith("coach-db")


@pytest.mark.parametrize("held", ["slow", "busy"])
async def test_a_loop_first_lane_waits_in_the_thread_after_the_database_was_held(
        held: str) -> None:
    """An item that waited for another process's write lock on the loop (slow, or raising
    busy) sends the items of the next ``BUSY_BACKOFF`` seconds to the thread, even under
    load; then the loop again."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from storage.db import DatabaseBusy

    main = threading.current_thread().name
    clock = SteppedClock()

    def held_up() -> str:
        clock.now += DatabaseLane.SLOW_ITEM + 0.5  # waited out a busy timeout
        if held == "busy":
            raise DatabaseBusy
        return threading.current_thread().name

    def name() -> str:
        return threading.current_thread().name

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="coach-db") as pool:
        worker = DatabaseLane(pool, loop_first=True, clock=clock)
        if held == "busy":
            with pytest.raises(DatabaseBusy):
                await worker.run(held_up, answering=True)
        else:  # it ran on the loop, and took long
            assert await worker.run(held_up, answering=True) == main
        burst = await asyncio.gather(*(worker.run(name, answering=True)
                                       for _ in range(2 * DatabaseLane.BUSY_ARRIVALS)))
        assert all(n.startswith("coach-db") for n in burst), burst
        clock.now += DatabaseLane.BUSY_BACKOFF
        assert await worker.run(name, answering=True) == main


async def test_a_loop_first_lane_runs_queued_items_in_short_runs_between_requests() -> None:
    """Queued items run a few in a row (their code stays warm in the CPU's caches), and a
    request arriving meanwhile still gets the loop between two runs."""
    worker = DatabaseLane(loop_first=True)
    done: list[int] = []
    seen: list[int] = []

    def item(n: int) -> int:
        done.append(n)
        return n

    async def request() -> None:
        for _ in range(8):
            seen.append(len(done))
            await asyncio.sleep(0)

    count = 3 * DatabaseLane.LOOP_FIRST_RUN
    results, _ = await asyncio.gather(
        asyncio.gather(*(worker.run(lambda n=n: item(n), answering=True)
                         for n in range(count))), request())
    assert results == list(range(count))
    assert all(b - a <= DatabaseLane.LOOP_FIRST_RUN for a, b in itertools.pairwise(seen))
    assert any(b - a > 1 for a, b in itertools.pairwise(seen))  # runs, not single items
    assert seen[-1] == count  # every item ran while the request was still going
