"""Market events API and `manage.py event`: operators inject and cancel, viewers read; errors name the field."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import role_client
from chats.tests.factories import ChatFactory
from config.testing.cases import RedisTestCase
from engine.models import MarketEvent

RATE_HIKE = "TCMB politika faizini 500 baz puan artırdı"


class EventsApiTests(RedisTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.operator, self.user, _ = role_client(Role.OPERATOR)
        self.viewer, _, _ = role_client(Role.VIEWER)
        self.chat = ChatFactory.create()

    def test_an_operator_injects_an_event_that_fires_now(self) -> None:
        body = {"text": RATE_HIKE, "symbols": ["THYAO", "XU100"], "topics": ["Makro"], "direction": "up",
                "intensity": "high", "chats": [self.chat.pk]}  # fmt: skip
        response = self.operator.post("/api/events/", body, format="json")
        assert response.status_code == 201, response.json()
        data = response.json()
        assert (data["status"], data["symbols"], data["intensity"]) == ("fired", ["BIST:THYAO", "XU100"], 0.9)
        assert data["created_by"] == self.user.username
        assert data["chats"] == [self.chat.pk]

    def test_a_scheduled_event_is_listed_by_chat_and_status_and_can_be_cancelled_once(self) -> None:
        at = (timezone.now() + timedelta(hours=2)).isoformat()
        body = {"text": RATE_HIKE, "direction": "down", "intensity": 0.4, "fire_at": at, "chats": [self.chat.pk]}
        pk = self.operator.post("/api/events/", body, format="json").json()["id"]
        listed = self.viewer.get(f"/api/events/?chat={self.chat.pk}&status=scheduled").json()["results"]
        assert [event["id"] for event in listed] == [pk]
        assert self.viewer.get("/api/events/?status=fired").json()["results"] == []
        cancelled = self.operator.post(f"/api/events/{pk}/cancel/")
        assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
        again = self.operator.post(f"/api/events/{pk}/cancel/")
        assert again.status_code == 409
        assert "cancelled" in again.json()["detail"]

    def test_bad_fields_are_a_400_naming_each(self) -> None:
        body = {"text": "", "symbols": ["$$$"], "direction": "sideways", "intensity": 3, "chats": [999]}
        response = self.operator.post("/api/events/", body, format="json")
        assert response.status_code == 400
        assert set(response.json()) >= {"text", "direction", "intensity", "chats"}
        bad_symbol = self.operator.post(
            "/api/events/", {"text": RATE_HIKE, "symbols": ["$$$"], "direction": "up", "intensity": 1}, format="json"
        )
        assert bad_symbol.status_code == 400
        assert "$$$" in str(bad_symbol.json())
        assert not MarketEvent.objects.exists()

    def test_a_viewer_reads_but_cannot_inject_or_cancel(self) -> None:
        body = {"text": RATE_HIKE, "direction": "up", "intensity": 0.5}
        assert self.viewer.post("/api/events/", body, format="json").status_code == 403
        pk = self.operator.post("/api/events/", body, format="json").json()["id"]
        assert self.viewer.get(f"/api/events/{pk}/").status_code == 200
        assert self.viewer.post(f"/api/events/{pk}/cancel/").status_code == 403


class EventCommandTests(RedisTestCase):
    def test_it_schedules_an_event_at_a_time_today_for_the_chats_named(self) -> None:
        chat, other = ChatFactory.create(), ChatFactory.create()
        out = StringIO()
        at = timezone.localtime() + timedelta(minutes=5)
        call_command(
            "event", RATE_HIKE, "--symbols", "THYAO,BTCUSDT", "--direction", "up", "--intensity", "high",
            "--at", at.strftime("%Y-%m-%dT%H:%M"), "--chat", str(chat.pk), stdout=out,
        )  # fmt: skip
        event = MarketEvent.objects.get()
        assert (event.symbols, event.status, event.intensity) == (["BIST:THYAO", "BTCUSDT"], "scheduled", 0.9)
        assert list(event.chats.all()) == [chat]
        assert event.fire_at.replace(second=0, microsecond=0) == at.replace(second=0, microsecond=0)
        assert "scheduled" in out.getvalue()
        assert other.market_events.count() == 0

    def test_without_a_time_it_fires_now_in_every_enabled_chat(self) -> None:
        chat = ChatFactory.create()
        call_command("event", "Borsa sert düştü", "--direction", "down", stdout=StringIO())
        event = MarketEvent.objects.get()
        assert event.status == "fired"
        assert list(event.chats.all()) == [chat]

    def test_errors_name_what_is_wrong(self) -> None:
        with pytest.raises(CommandError, match="'\\$\\$\\$'"):
            call_command("event", RATE_HIKE, "--symbols", "$$$", "--direction", "up", stdout=StringIO())
        with pytest.raises(CommandError, match="--at"):
            call_command("event", RATE_HIKE, "--direction", "up", "--at", "25:99", stdout=StringIO())
        with pytest.raises(CommandError, match="There is no chat '999'"):
            call_command("event", RATE_HIKE, "--direction", "up", "--chat", "999", stdout=StringIO())
        assert not MarketEvent.objects.exists()


def test_hh_mm_is_today_in_the_server_time_zone() -> None:
    from engine.management.commands.event import parse_at

    now = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.get_current_timezone())
    assert parse_at("14:00", now=now) == now.replace(hour=14)
    with pytest.raises(CommandError, match="passed"):
        parse_at("08:00", now=now)
