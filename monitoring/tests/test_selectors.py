from __future__ import annotations

import time
from unittest import mock

from django.core.cache import cache
from django.test import TestCase, override_settings

from monitoring import selectors
from monitoring.selectors import SUMMARY_CACHE_KEY, SUMMARY_LOCK_KEY, dashboard_summary


@override_settings(METRICS_SUMMARY_CACHE_S=2)
class DashboardSummaryCacheTests(TestCase):
    def setUp(self) -> None:
        cache.clear()
        self.addCleanup(cache.clear)

    def test_a_fresh_copy_is_served_without_computing(self) -> None:
        first = dashboard_summary()
        with mock.patch.object(selectors, "_summary") as compute:
            self.assertEqual(dashboard_summary(), first)
        compute.assert_not_called()

    def test_an_old_copy_is_recomputed_by_one_request(self) -> None:
        old = dashboard_summary() | {"generated_at": time.time() - 3}
        cache.set(SUMMARY_CACHE_KEY, old)
        fresh = dashboard_summary()
        self.assertGreater(fresh["generated_at"], old["generated_at"])
        self.assertIsNone(cache.get(SUMMARY_LOCK_KEY), "the lock is released")

    def test_while_one_request_computes_the_others_get_the_old_copy(self) -> None:
        old = dashboard_summary() | {"generated_at": time.time() - 3}
        cache.set(SUMMARY_CACHE_KEY, old)
        cache.add(SUMMARY_LOCK_KEY, 1)  # another request is computing
        with mock.patch.object(selectors, "_summary") as compute:
            self.assertEqual(dashboard_summary(), old)
        compute.assert_not_called()

    def test_a_failed_computation_releases_the_lock(self) -> None:
        cache.set(SUMMARY_CACHE_KEY, dashboard_summary() | {"generated_at": 0.0})
        failing = mock.patch.object(selectors, "_summary", side_effect=RuntimeError("db down"))
        with failing, self.assertRaises(RuntimeError):
            dashboard_summary()
        self.assertIsNone(cache.get(SUMMARY_LOCK_KEY))
