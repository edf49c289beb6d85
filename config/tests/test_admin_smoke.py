from __future__ import annotations

from io import StringIO
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from bots.models import Bot
from chats.models import Chat, Message
from engine.models import NewsItem, TelegramInbox, Turn


class EveryAdminPageTests(TestCase):
    """Every registered model's changelist, add and change pages render for a superuser (no 500 anywhere)."""

    user: Any

    @classmethod
    def setUpTestData(cls) -> None:
        call_command("create_demo_crowd", stdout=StringIO())
        chat, bot = Chat.objects.get(), Bot.objects.first()
        assert bot is not None
        message = Message.objects.create(chat=chat, sender_name="Ali", text="Selam", telegram_message_id=1)
        Turn.objects.create(chat=chat, bot=bot, due_at=timezone.now(), reply_to=message)
        TelegramInbox.objects.create(bot=bot)
        NewsItem.objects.create(source="https://example.org", uid="x", title="Faiz kararı", published_at=timezone.now())
        cls.user = get_user_model().objects.create_superuser("root", password="pw-not-used-123")

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def test_every_changelist_add_and_change_page_renders(self) -> None:
        for model, model_admin in admin.site._registry.items():
            meta = model._meta
            if not meta.managed:
                continue  # django-rq's queue dashboard is a link, not a table
            with self.subTest(model=meta.label):
                changelist = self.client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
                self.assertEqual(changelist.status_code, 200)
                add = self.client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
                # Models the engine writes (turns, headlines, inboxes) deliberately have no add page.
                expected = 200 if model_admin.has_add_permission(changelist.wsgi_request) else 403
                self.assertEqual(add.status_code, expected)
                instance = model._default_manager.first()
                if instance is not None:
                    change = self.client.get(
                        reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[instance.pk])
                    )
                    self.assertEqual(change.status_code, 200)

    def test_the_models_of_our_apps_are_all_registered(self) -> None:
        from django.apps import apps

        ours = {m for app in ("bots", "chats", "engine", "accounts") for m in apps.get_app_config(app).get_models()}
        self.assertEqual(ours - set(admin.site._registry), set())
