from __future__ import annotations

from accounts.roles import Role
from bots.tests.factories import BotFactory
from chats.models import Chat
from chats.tests.factories import ChatFactory, MembershipFactory, MessageFactory
from dashboard.tests.helpers import DashboardTestCase
from dashboard.views.chats import LIVE_INITIAL_MESSAGES


class ChatListTests(DashboardTestCase):
    def test_anonymous_users_are_sent_to_the_login_page(self) -> None:
        self.assertRedirectsToLogin("/chats/")

    def test_it_lists_chats_with_their_enabled_bots_and_state(self) -> None:
        chat = ChatFactory.create(title="BIST Sohbet")
        MembershipFactory.create(chat=chat)
        MembershipFactory.create(chat=chat, is_enabled=False)
        ChatFactory.create(title="Kripto", is_enabled=False)
        self.login_as(Role.VIEWER)
        response = self.client.get("/chats/")
        self.assertContains(response, f'href="/chats/{chat.pk}/">BIST Sohbet</a>')
        self.assertContains(response, "<td>1</td>", html=False)
        self.assertContains(response, "paused")


class ChatLiveTests(DashboardTestCase):
    def setUp(self) -> None:
        self.chat = ChatFactory.create(title="Piyasa Sohbet")
        self.bot = BotFactory.create(name="Kemal Aydın", username="kemal_bot")
        MembershipFactory.create(chat=self.chat, bot=self.bot)

    def test_it_shows_the_latest_messages_oldest_first_with_reply_quotes(self) -> None:
        first = MessageFactory.create(chat=self.chat, sender_name="Ayşe", text="Dolar ne olur?", telegram_message_id=7)
        MessageFactory.create(chat=self.chat, bot=self.bot, text="Bence yükselir.", reply_to=first)
        self.login_as(Role.VIEWER)
        response = self.client.get(f"/chats/{self.chat.pk}/")
        content = response.content.decode()
        self.assertLess(content.index("Dolar ne olur?"), content.index("Bence yükselir."))
        self.assertContains(response, "↪ Ayşe: Dolar ne olur?")
        self.assertContains(response, f'data-poll-url="/api/messages/?chat={self.chat.pk}"')

    def test_it_renders_only_the_newest_messages(self) -> None:
        for number in range(LIVE_INITIAL_MESSAGES + 5):
            MessageFactory.create(chat=self.chat, text=f"mesaj numara {number}.")
        self.login_as(Role.VIEWER)
        response = self.client.get(f"/chats/{self.chat.pk}/")
        self.assertNotContains(response, "mesaj numara 4.")
        self.assertContains(response, f"mesaj numara {LIVE_INITIAL_MESSAGES + 4}.")

    def test_operators_get_the_member_post_form_in_sandbox_chats_only(self) -> None:
        self.login_as(Role.OPERATOR)
        response = self.client.get(f"/chats/{self.chat.pk}/")
        self.assertContains(response, 'id="post-form"')
        self.assertContains(response, f'data-post-url="/api/chats/{self.chat.pk}/messages/"')
        self.assertContains(response, 'data-username="kemal_bot"')
        telegram = ChatFactory.create(transport=Chat.Transport.TELEGRAM, telegram_chat_id=-100123)
        self.assertNotContains(self.client.get(f"/chats/{telegram.pk}/"), 'id="post-form"')

    def test_viewers_cannot_post_or_pause(self) -> None:
        self.login_as(Role.VIEWER)
        response = self.client.get(f"/chats/{self.chat.pk}/")
        self.assertNotContains(response, 'id="post-form"')
        self.assertNotContains(response, 'value="pause"')
        self.assertEqual(self.client.post(f"/chats/{self.chat.pk}/", {"action": "pause"}).status_code, 403)
        self.chat.refresh_from_db()
        self.assertTrue(self.chat.is_enabled)

    def test_operators_pause_and_resume_a_chat(self) -> None:
        self.login_as(Role.OPERATOR)
        response = self.client.post(f"/chats/{self.chat.pk}/", {"action": "pause"}, follow=True)
        self.assertContains(response, "Piyasa Sohbet: paused.")
        self.chat.refresh_from_db()
        self.assertFalse(self.chat.is_enabled)
        self.client.post(f"/chats/{self.chat.pk}/", {"action": "resume"})
        self.chat.refresh_from_db()
        self.assertTrue(self.chat.is_enabled)

    def test_an_unknown_chat_is_a_404(self) -> None:
        self.login_as(Role.VIEWER)
        self.assertEqual(self.client.get("/chats/999999/").status_code, 404)

    def test_it_shows_the_last_hours_quality_figures_with_definitions_and_bands(self) -> None:
        for text in ("BIST bugün sakin.", "BIST bugün sakin mi acaba?"):
            MessageFactory.create(chat=self.chat, bot=self.bot, text=text)
        self.login_as(Role.VIEWER)
        response = self.client.get(f"/chats/{self.chat.pk}/")
        self.assertContains(response, 'id="quality"')
        self.assertContains(response, "2 bot and 0 member messages")
        self.assertContains(response, f'href="/api/chats/{self.chat.pk}/quality/"')
        self.assertContains(response, 'title="Bot messages directly after a message of the same bot')
        row = response.content.decode().split('data-figure="same_speaker_in_a_row"')[1].split("</tr>")[0]
        self.assertIn('<span class="badge band band-red">red</span>', row)
        self.assertIn("100%", row)
        members = response.content.decode().split('data-figure="members_answered"')[1].split("</tr>")[0]
        self.assertIn("n/a", members)
