"""Roles are groups with exactly their permissions, created after migrate and safe to re-create."""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.test import TestCase

from accounts.roles import Role, roles_sync, user_role
from accounts.services import user_set_role


class RolesTest(TestCase):
    """viewer ⊂ operator ⊂ admin."""

    def perms(self, role: Role) -> set[str]:
        group = Group.objects.get(name=role.value)
        return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}

    def test_migrate_created_the_three_groups(self) -> None:
        self.assertEqual(set(Group.objects.values_list("name", flat=True)) >= {"viewer", "operator", "admin"}, True)

    def test_each_role_has_exactly_its_permissions(self) -> None:
        viewer, operator, admin = self.perms(Role.VIEWER), self.perms(Role.OPERATOR), self.perms(Role.ADMIN)
        self.assertTrue(all(perm.split(".")[1].startswith("view_") for perm in viewer))
        self.assertIn("engine.view_turn", viewer)
        self.assertLess(viewer, operator)
        self.assertLess(operator, admin)
        self.assertIn("accounts.control_simulation", operator)
        self.assertIn("bots.change_stance", operator)
        self.assertFalse({"engine.change_setting", "bots.delete_bot", "auth.add_user"} & operator)
        self.assertTrue({"engine.change_setting", "bots.delete_bot", "auth.change_user"} <= admin)

    def test_sync_is_idempotent_and_repairs_groups(self) -> None:
        Group.objects.get(name="viewer").permissions.clear()
        roles_sync()
        roles_sync()
        self.assertEqual(Group.objects.filter(name="viewer").count(), 1)
        self.assertIn("bots.view_bot", self.perms(Role.VIEWER))

    def test_a_user_has_one_role(self) -> None:
        user = User.objects.create(username="u")
        user_set_role(user=user, role=Role.VIEWER)
        user_set_role(user=user, role=Role.OPERATOR)
        self.assertEqual(list(user.groups.values_list("name", flat=True)), ["operator"])
        self.assertEqual(user_role(user), Role.OPERATOR)
        user_set_role(user=user, role=None)
        self.assertIsNone(user_role(user))
        self.assertEqual(user_role(User(is_superuser=True)), Role.ADMIN)
