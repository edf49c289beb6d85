"""Event loops for the engine's network calls: one per thread, kept for the process's life, with the async
HTTP clients bound to it (an aiohttp session belongs to the loop that opened it)."""

from __future__ import annotations

import asyncio
import atexit
import queue
import threading
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterator, Sequence
from typing import Any, TypeVar

from engine.clients import network_threads

T = TypeVar("T")
R = TypeVar("R")
X = TypeVar("X")
Closer = Callable[[Any], Awaitable[object]]

_local = threading.local()
_loops: list[tuple[asyncio.AbstractEventLoop, dict[Hashable, tuple[Any, Closer]]]] = []
_loops_lock = threading.Lock()


def thread_loop() -> asyncio.AbstractEventLoop:
    """This thread's event loop (an RQ worker runs its jobs on one thread, so they share it).

    A loop per call (`asyncio.run`) would also mean an HTTP client and a new TCP (TLS in production)
    connection per call (docs/decisions/012-event-loop-per-thread.md).
    """
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = _local.loop = asyncio.new_event_loop()
        _local.resources = {}
        with _loops_lock:
            _loops.append((loop, _local.resources))
    return loop


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end on this thread's loop (a network thread's, when this thread is already
    running one: a caller inside an async framework)."""
    if _loop_running():
        return network_threads().submit(lambda: run(coroutine)).result()
    return thread_loop().run_until_complete(coroutine)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def loop_resource(key: Hashable, build: Callable[[], R], close: Callable[[R], Awaitable[object]]) -> R:
    """A thing bound to this thread's loop (an HTTP client): built once per loop and `key`, closed at exit."""
    thread_loop()
    resources: dict[Hashable, tuple[Any, Closer]] = _local.resources
    if key not in resources:
        resources[key] = (build(), close)
    return resources[key][0]


def run_together(calls: Sequence[Awaitable[T]], returned: Callable[[int, T | BaseException], None]) -> None:
    """Await several calls concurrently on this thread's loop; `returned(index, result or exception)` as each
    returns. One loop for a batch's calls, not a thread and a loop run for each."""

    async def one(index: int, call: Awaitable[T]) -> None:
        try:
            result: T | BaseException = await call
        except Exception as error:  # noqa: BLE001 - handed to the caller, who decides
            result = error
        returned(index, result)

    async def every() -> None:
        await asyncio.gather(*(one(index, call) for index, call in enumerate(calls)))

    run(every())


def as_returned(items: Sequence[X], call: Callable[[X], Awaitable[T]]) -> Iterator[list[tuple[X, T | BaseException]]]:
    """`call` on every item, awaited together on a network thread's loop: the (item, result) pairs in groups,
    each group every call that has returned when the caller looks, so the caller works on early results
    while later calls are in flight. Calls that return in the same turn of the loop come in one group. A single
    call runs on this thread's loop."""
    results: queue.SimpleQueue[list[tuple[int, T | BaseException]] | None] = queue.SimpleQueue()
    pending: list[tuple[int, T | BaseException]] = []

    def flush() -> None:
        results.put(pending[:])
        pending.clear()

    def returned(index: int, got: T | BaseException) -> None:
        if not pending:  # the first of this turn of the loop: the others that return in it join
            asyncio.get_running_loop().call_soon(flush)
        pending.append((index, got))

    def run_all() -> None:
        try:
            run_together([call(item) for item in items], returned)
        finally:
            results.put(None)  # the end, even if the loop itself crashed

    background = network_threads().submit(run_all) if len(items) > 1 else None
    if background is None:
        run_all()
    ended = False
    while not ended:
        got = [results.get()]  # the first group to return, then every other that has by now
        while not results.empty():
            got.append(results.get())
        ended = None in got
        returned_now = [(items[index], result) for group in got if group is not None for index, result in group]
        if returned_now:
            yield returned_now
    if background is not None:
        background.result()


@atexit.register
def close_loops() -> None:
    """Close every thread's HTTP clients and event loop (an open aiohttp session complains when collected)."""
    with _loops_lock:
        loops, _loops[:] = list(_loops), []
    for loop, resources in loops:
        if loop.is_closed() or loop.is_running():
            continue
        loop.run_until_complete(_close(list(resources.values())))
        resources.clear()
        loop.close()


async def _close(resources: list[tuple[Any, Closer]]) -> None:
    await asyncio.gather(*(close(resource) for resource, close in resources), return_exceptions=True)
