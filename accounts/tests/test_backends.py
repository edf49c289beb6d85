from __future__ import annotations

from django.contrib.auth.models import Group, Permission, User
from django.core.cache import cache
from django.test import TestCase

from accounts.backends import GENERATION_KEY
from accounts.roles import Role
from accounts.services import api_user_create, user_set_role


class CachedPermissionsTests(TestCase):
    def setUp(self) -> None:
        cache.clear()
        self.addCleanup(cache.clear)
        self.user, _ = api_user_create(username="ayse", role=Role.OPERATOR)

    def fresh(self) -> User:
        return User.objects.get(pk=self.user.pk)  # a new object: no per-request permission cache on it

    def test_a_users_permissions_are_read_from_the_database_once(self) -> None:
        self.assertTrue(self.fresh().has_perm("bots.change_bot"))
        user = self.fresh()
        with self.assertNumQueries(0):
            self.assertTrue(user.has_perm("bots.change_bot"))
            self.assertFalse(user.has_perm("engine.change_setting"))

    def test_a_removed_role_takes_effect_on_the_next_request(self) -> None:
        self.assertTrue(self.fresh().has_perm("bots.change_bot"))
        user_set_role(user=self.user, role=Role.VIEWER)
        user = self.fresh()
        self.assertFalse(user.has_perm("bots.change_bot"))
        self.assertTrue(user.has_perm("bots.view_bot"))

    def test_a_changed_group_takes_effect_on_the_next_request(self) -> None:
        self.assertFalse(self.fresh().has_perm("engine.change_setting"))
        Group.objects.get(name=Role.OPERATOR.value).permissions.add(
            Permission.objects.get(content_type__app_label="engine", codename="change_setting")
        )
        self.assertTrue(self.fresh().has_perm("engine.change_setting"))

    def test_a_deactivated_user_has_no_permissions(self) -> None:
        self.assertTrue(self.fresh().has_perm("bots.change_bot"))
        User.objects.filter(pk=self.user.pk).update(is_active=False)  # no signal: is_active is read per request
        self.assertFalse(self.fresh().has_perm("bots.change_bot"))

    def test_an_evicted_generation_never_revives_old_entries(self) -> None:
        self.assertTrue(self.fresh().has_perm("bots.change_bot"))
        before = cache.get(GENERATION_KEY)
        cache.delete(GENERATION_KEY)
        self.fresh().has_perm("bots.change_bot")
        self.assertNotEqual(cache.get(GENERATION_KEY), before)
