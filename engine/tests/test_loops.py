"""Event loops per thread, loop-bound clients, and calls awaited together."""

from __future__ import annotations

import asyncio
import threading

from django.test import SimpleTestCase

from engine.clients import loops


class Client:
    """Stands for an HTTP client bound to the loop it was built on."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.closed = False

    async def close(self) -> None:
        self.closed = True


async def _client(key: str) -> Client:
    return loops.loop_resource(key, Client, Client.close)


class ThreadLoopTests(SimpleTestCase):
    """Each thread's own event loop and the clients bound to it."""

    def test_a_thread_keeps_its_loop_and_its_clients_across_runs(self) -> None:
        first, again = loops.run(_client("a")), loops.run(_client("a"))

        assert first is again
        assert first.loop is loops.thread_loop()
        assert loops.run(_client("b")) is not first

    def test_each_thread_has_its_own_loop_and_clients(self) -> None:
        here = loops.run(_client("a"))
        there: list[Client] = []
        thread = threading.Thread(target=lambda: there.append(loops.run(_client("a"))))
        thread.start()
        thread.join()

        assert there[0] is not here
        assert there[0].loop is not here.loop

    def test_clients_are_closed_at_exit_and_a_later_run_builds_new_ones(self) -> None:
        client = loops.run(_client("a"))

        loops.close_loops()

        assert client.closed
        assert client.loop.is_closed()
        assert loops.run(_client("a")) is not client

    def test_run_works_from_inside_a_running_loop(self) -> None:
        async def caller() -> int:  # an async framework calling the engine's synchronous code
            return loops.run(asyncio.sleep(0, result=7))

        assert asyncio.run(caller()) == 7


class RunTogetherTests(SimpleTestCase):
    """Calls awaited together, each result handed back as it returns."""

    def test_run_together_hands_back_each_result_or_exception_by_index(self) -> None:
        async def value(number: int) -> int:
            await asyncio.sleep(0.01 * (3 - number))
            if number == 1:
                raise ValueError("second")
            return number

        returned: list[tuple[int, object]] = []
        loops.run_together([value(0), value(1), value(2)], lambda index, got: returned.append((index, got)))

        assert [index for index, _ in returned] == [2, 1, 0]  # as they returned, not in order
        results = dict(returned)
        assert (results[0], results[2]) == (0, 2)
        assert isinstance(results[1], ValueError)


class AsReturnedTests(SimpleTestCase):
    """Results of calls in flight together, in groups as they return."""

    def test_as_returned_gives_early_results_while_later_calls_are_in_flight(self) -> None:
        release = threading.Event()

        async def call(name: str) -> str:
            if name == "slow":  # held until the caller has seen the fast one (or fails the test after 5 s)
                return "SLOW" if await asyncio.to_thread(release.wait, 5) else "held back"
            return "FAST"

        groups = []
        for group in loops.as_returned(["fast", "slow"], call):
            groups.append(group)
            release.set()

        assert groups == [[("fast", "FAST")], [("slow", "SLOW")]]

    def test_as_returned_runs_a_single_call_on_this_thread(self) -> None:
        async def call(item: str) -> int:
            return threading.get_ident()

        [[(item, ident)]] = list(loops.as_returned(["only"], call))

        assert (item, ident) == ("only", threading.get_ident())

    def test_as_returned_raises_when_the_loop_itself_fails(self) -> None:
        def broken(item: str) -> asyncio.Future[str]:
            raise RuntimeError("could not build the call")

        with self.assertRaisesRegex(RuntimeError, "could not build"):
            list(loops.as_returned(["a", "b"], broken))
