"""Where database work runs after the ack: on the loop for SQLite, one item at a time."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from bot.channels.database import DatabaseLane


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
