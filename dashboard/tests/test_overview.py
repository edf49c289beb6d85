from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.roles import Role
from bots.tests.factories import BotFactory
from chats.tests.factories import ChatFactory, MembershipFactory
from dashboard.tests.helpers import DashboardTestCase
from engine.selectors import settings_all
from engine.services import settings_update


class OverviewTests(DashboardTestCase):
    def test_anonymous_users_are_sent_to_the_login_page(self) -> None:
        self.assertRedirectsToLogin("/")

    def test_every_role_sees_the_state_tiles_health_and_charts(self) -> None:
        for role in Role:
            with self.subTest(role=role):
                self.login_as(role)
                response = self.client.get("/")
                self.assertContains(response, 'id="simulation-state"')
                self.assertContains(response, 'data-field="active_bots"')
                self.assertContains(response, 'data-health="telegram"')
                self.assertContains(response, 'id="chart-activity"')
                self.assertContains(response, 'data-url="/api/metrics/summary"')
                self.assertContains(response, "uPlot.iife.min.js")

    def test_viewers_get_no_controls_and_cannot_post_them(self) -> None:
        self.login_as(Role.VIEWER)
        self.assertNotContains(self.client.get("/"), 'name="action"')
        self.assertEqual(self.client.post("/", {"action": "start"}).status_code, 403)
        self.assertFalse(settings_all().simulation_active)

    def test_operators_start_and_stop_the_simulation(self) -> None:
        self.login_as(Role.OPERATOR)
        response = self.client.post("/", {"action": "start"}, follow=True)
        self.assertTrue(settings_all().simulation_active)
        self.assertContains(response, "Simulation started.")
        self.assertContains(response, 'id="stop-button"')
        self.client.post("/", {"action": "stop"})
        self.assertFalse(settings_all().simulation_active)

    def test_operators_set_the_scale(self) -> None:
        self.login_as(Role.OPERATOR)
        self.client.post("/", {"action": "scale", "scale_factor": "2.5"})
        self.assertEqual(settings_all().scale_factor, 2.5)

    def test_an_invalid_scale_is_shown_next_to_the_field_and_not_stored(self) -> None:
        settings_update(values={"scale_factor": 3.0})
        self.login_as(Role.OPERATOR)
        for value, message in (("0", "greater than 0"), ("51", "less than or equal to 50"), ("x", "Enter a number")):
            with self.subTest(value=value):
                response = self.client.post("/", {"action": "scale", "scale_factor": value})
                self.assertEqual(response.status_code, 400)
                self.assertContains(response, 'class="field-errors" id="id_scale_factor-errors"', status_code=400)
                self.assertContains(response, message, status_code=400)
        self.assertEqual(settings_all().scale_factor, 3.0)

    def test_the_overview_lists_chats_in_quiet_hours_with_the_reason(self) -> None:
        awake = ChatFactory.create(title="Herkes Uyanık")
        MembershipFactory.create(chat=awake, bot=BotFactory.create())
        quiet = ChatFactory.create(title="Gece Sohbeti", timezone="UTC")
        asleep_from = (timezone.now() + timedelta(hours=2)).strftime("%H:00")
        asleep_to = (timezone.now() + timedelta(hours=3)).strftime("%H:00")
        MembershipFactory.create(chat=quiet, bot=BotFactory.create())
        MembershipFactory.create(chat=quiet, bot=BotFactory.create(active_hours=[f"{asleep_from}-{asleep_to}"]))
        self.login_as(Role.VIEWER)
        response = self.client.get("/")
        self.assertContains(response, 'id="quiet-hours"')
        self.assertContains(response, f'<a href="/chats/{quiet.pk}/">Gece Sohbeti</a>: 1 of 2 bots active now:')
        self.assertNotContains(response, "Herkes Uyanık")
