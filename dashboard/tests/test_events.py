"""Dashboard market events: the events page (form with field errors, list, cancel) and the chat page's timeline."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.roles import Role
from chats.tests.factories import ChatFactory
from config.testing.cases import RedisTestCase
from dashboard.tests.helpers import DashboardTestCase
from engine.models import MarketEvent
from engine.services.events import event_create

RATE_HIKE = "TCMB politika faizini 500 baz puan artırdı"


class EventPagesTests(RedisTestCase, DashboardTestCase):
    def test_an_operator_injects_an_event_for_a_chat_and_it_shows_on_the_chat_page(self) -> None:
        chat = ChatFactory.create(title="Borsa Grubu")
        user = self.login_as(Role.OPERATOR)
        assert f'value="{chat.pk}" selected' in self.client.get(f"/events/?chat={chat.pk}").content.decode()
        body = {"text": RATE_HIKE, "symbols": "THYAO, XU100", "topics": "Makro", "direction": "up",
                "intensity": "high", "chats": [chat.pk]}  # fmt: skip
        response = self.client.post("/events/", body, follow=True)
        assert f"Event fired: {RATE_HIKE}" in response.content.decode()
        event = MarketEvent.objects.get()
        assert (event.symbols, event.intensity, event.created_by) == (["BIST:THYAO", "XU100"], 0.9, user)
        page = self.client.get(f"/chats/{chat.pk}/").content.decode()
        assert 'id="event-timeline"' in page
        assert f'data-event="{event.pk}"' in page
        assert RATE_HIKE in page
        assert f'href="/events/?chat={chat.pk}"' in page

    def test_errors_are_shown_at_their_fields_and_nothing_is_stored(self) -> None:
        self.login_as(Role.OPERATOR)
        response = self.client.post("/events/", {"text": "", "symbols": "THYAO, $$$", "direction": "sideways"})
        assert response.status_code == 200
        html = response.content.decode()
        for field in ("text", "symbols", "direction", "intensity"):
            assert f'id="id_{field}-errors"' in html, field
        assert "&#x27;$$$&#x27;" in html
        assert not MarketEvent.objects.exists()

    def test_a_scheduled_event_can_be_cancelled_from_the_list(self) -> None:
        self.login_as(Role.OPERATOR)
        event = event_create(
            text=RATE_HIKE, direction="down", intensity=0.5, fire_at=timezone.now() + timedelta(hours=1)
        )
        html = self.client.get("/events/").content.decode()
        assert f"/events/{event.pk}/cancel/" in html
        response = self.client.post(f"/events/{event.pk}/cancel/", follow=True)
        assert f"Cancelled: {RATE_HIKE}" in response.content.decode()
        event.refresh_from_db()
        assert event.status == "cancelled"

    def test_a_viewer_sees_the_events_without_the_form_and_may_not_inject_or_cancel(self) -> None:
        event = event_create(
            text=RATE_HIKE, direction="down", intensity=0.5, fire_at=timezone.now() + timedelta(hours=1)
        )
        self.login_as(Role.VIEWER)
        html = self.client.get("/events/").content.decode()
        assert RATE_HIKE in html
        assert 'id="event-form"' not in html
        assert "/cancel/" not in html
        assert self.client.post("/events/", {"text": RATE_HIKE, "direction": "up"}).status_code == 403
        assert self.client.post(f"/events/{event.pk}/cancel/").status_code == 403
        assert not MarketEvent.objects.exclude(pk=event.pk).exists()

    def test_the_timeline_alone_is_a_fragment_a_viewer_may_read(self) -> None:
        chat, other = ChatFactory.create(), ChatFactory.create()
        event = event_create(text=RATE_HIKE, direction="up", intensity=0.9, chats=[chat])
        event_create(text="Başka bir grup", direction="down", intensity=0.5, chats=[other])
        self.login_as(Role.VIEWER)
        html = self.client.get(f"/chats/{chat.pk}/events/").content.decode()
        assert html.lstrip().startswith('<ol class="event-timeline" id="event-timeline">')
        assert f'data-event="{event.pk}"' in html
        assert RATE_HIKE in html
        assert "Başka bir grup" not in html
        assert "<html" not in html
        live = self.client.get(f"/chats/{chat.pk}/").content.decode()
        assert f'data-url="/chats/{chat.pk}/events/"' in live

    def test_anonymous_users_are_sent_to_log_in(self) -> None:
        self.assertRedirectsToLogin("/events/")
        self.assertRedirectsToLogin(f"/chats/{ChatFactory.create().pk}/events/")
