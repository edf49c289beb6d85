from __future__ import annotations

from unittest.mock import patch

from config.testing.cases import RedisSimpleTestCase
from engine import liveness
from engine.redis import redis_connection


class ClaimTests(RedisSimpleTestCase):
    """A worker's claims on turns, judged by whether the worker is alive."""

    def test_claims_are_not_recorded_outside_a_worker(self) -> None:
        with patch.object(liveness, "_worker_name", None):
            liveness.claim_record(7)
        assert redis_connection().get(liveness.CLAIM_PREFIX + "7") is None

    def test_a_started_worker_is_alive_and_its_claims_are_not_dead(self) -> None:
        with patch.object(liveness, "_worker_name", None), patch.object(liveness, "REFRESH_S", 3600):
            thread = liveness.liveness_start("w1")
            liveness.claim_record(1)
            assert liveness.orphaned_claims([1, 2]) == {}  # 2 has no claim: not judged here
        assert thread.daemon
        ttl = redis_connection().ttl(liveness.ALIVE_PREFIX + "w1")
        assert 0 < ttl <= liveness.ALIVE_TTL_S

    def test_the_claims_of_a_worker_whose_mark_expired_are_dead(self) -> None:
        with patch.object(liveness, "_worker_name", "w2"):
            liveness.claim_record(3)
        liveness._refresh("w3")
        with patch.object(liveness, "_worker_name", "w3"):
            liveness.claim_record(4)
        redis_connection().delete(liveness.ALIVE_PREFIX + "w2")  # what the TTL does when w2 stops refreshing
        assert liveness.orphaned_claims([3, 4]) == {3: "dead"}
        assert liveness.orphaned_claims([]) == {}

    def test_a_refresh_failure_is_logged_not_raised(self) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError

        with (
            self.assertLogs("engine.liveness", "WARNING") as logs,
            patch.object(liveness, "redis_connection", side_effect=RedisConnectionError("down")),
        ):
            liveness._refresh("w5")
        assert "liveness refresh failed" in "\n".join(logs.output)

    def test_forgotten_claims_are_no_longer_judged(self) -> None:
        with patch.object(liveness, "_worker_name", "w6"):
            liveness.claim_record(8)
        liveness.claims_forget([8])
        liveness.claims_forget([])
        assert liveness.orphaned_claims([8]) == {}


class WorkingOnTests(RedisSimpleTestCase):
    """A job's turns are claimed while it runs and marked done when it ends."""

    def test_a_job_marks_its_turn_done_when_it_ends_even_by_an_exception(self) -> None:
        liveness._refresh("w7")
        with patch.object(liveness, "_worker_name", "w7"):
            with liveness.working_on(9):
                assert liveness.orphaned_claims([9]) == {}  # a live job works on it
            with self.assertRaises(RuntimeError), liveness.working_on(10):
                raise RuntimeError("the database went away")
        assert liveness.orphaned_claims([9, 10]) == {9: "done", 10: "done"}

    def test_a_job_does_not_mark_done_a_turn_another_worker_took_over(self) -> None:
        # Exiting in reverse: w9's record is written inside w8's job, whose end then finds it not its own.
        as_w8, as_w9 = patch.object(liveness, "_worker_name", "w8"), patch.object(liveness, "_worker_name", "w9")
        with as_w8, liveness.working_on(11), as_w9:
            liveness.claim_record(11)
        assert redis_connection().get(liveness.CLAIM_PREFIX + "11") == b"w9"

    def test_a_batch_job_records_every_turn_and_marks_each_done(self) -> None:
        liveness._refresh("w10")
        with patch.object(liveness, "_worker_name", "w10"), liveness.working_on(12, 13, 14):
            assert liveness.orphaned_claims([12, 13, 14]) == {}
        assert liveness.orphaned_claims([12, 13, 14]) == {12: "done", 13: "done", 14: "done"}
