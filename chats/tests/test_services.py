from __future__ import annotations

from django.test import TestCase

from chats.models import Membership
from chats.services import memberships_count_sent
from chats.tests.factories import MembershipFactory


class MembershipsCountSentTests(TestCase):
    def test_each_membership_counts_its_own_messages_and_a_full_persona_resets_the_count(self) -> None:
        once, twice, full, untouched = MembershipFactory.create_batch(4, messages_since_refresh=5)

        with self.assertNumQueries(3):  # one UPDATE per distinct count, one for the full personas
            memberships_count_sent(sent={once.pk: 1, twice.pk: 2}, full_persona=[full.pk])

        counts = dict(Membership.objects.values_list("pk", "messages_since_refresh"))
        self.assertEqual(counts, {once.pk: 6, twice.pk: 7, full.pk: 0, untouched.pk: 5})
        self.assertIsNotNone(Membership.objects.get(pk=full.pk).persona_refreshed_at)
        self.assertIsNone(Membership.objects.get(pk=untouched.pk).persona_refreshed_at)

    def test_nothing_sent_is_no_query(self) -> None:
        with self.assertNumQueries(0):
            memberships_count_sent(sent={}, full_persona=[])
