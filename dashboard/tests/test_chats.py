from __future__ import annotations

from django.utils import timezone

from accounts.roles import Role
from bots.tests.factories import BotFactory
from chats.models import Chat
from chats.services import chat_discover, chat_migrate, membership_pause
from chats.tests.factories import ChatFactory, MembershipFactory, MessageFactory
from dashboard.tests.helpers import DashboardTestCase
from dashboard.views.chats import LIVE_INITIAL_MESSAGES
from engine.services.activity import NIGHT, in_range, local_time


def _hours_away() -> str:
    """An active-hours range that starts two hours from now (UTC), so the bot is asleep now."""
    hour = (timezone.now().hour + 2) % 24
    return f"{hour:02d}:00-{(hour + 1) % 24:02d}:00"


def _reason(timezone_name: str) -> str:
    moment = local_time(timezone.now(), timezone_name)
    return f"night in {timezone_name}" if in_range(moment, *NIGHT) else "outside their active hours at"


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

    def test_a_forum_s_messages_show_their_thread(self) -> None:
        threads = [{"thread_id": 12, "name": "Kripto <b>", "topic": "Kripto", "closed": False}]
        chat = ChatFactory.create(transport=Chat.Transport.TELEGRAM, telegram_chat_id=-1002471352452, is_forum=True)
        Chat.objects.filter(pk=chat.pk).update(forum_threads=threads)
        MessageFactory.create(chat=chat, text="BTC?", thread_id=12)
        MessageFactory.create(chat=chat, text="Günaydın")
        self.login_as(Role.VIEWER)
        response = self.client.get(f"/chats/{chat.pk}/")
        self.assertContains(response, '<span class="thread" data-thread-id="12">Kripto &lt;b&gt;</span>')
        self.assertContains(response, '<span class="thread" data-thread-id="">General</span>')
        self.assertContains(response, 'id="thread-names"')
        self.assertNotContains(self.client.get(f"/chats/{self.chat.pk}/"), 'class="thread"')

    def test_an_upgraded_group_says_when_it_became_a_supergroup(self) -> None:
        chat = ChatFactory.create(transport=Chat.Transport.TELEGRAM, telegram_chat_id=-4518810793)
        self.login_as(Role.VIEWER)
        self.assertNotContains(self.client.get(f"/chats/{chat.pk}/"), 'id="chat-migration"')
        chat_migrate(from_chat_id=-4518810793, to_chat_id=-1002471352452)
        self.assertContains(self.client.get(f"/chats/{chat.pk}/"), "upgraded to supergroup on ")
        self.assertContains(self.client.get(f"/chats/{chat.pk}/"), "(was -4518810793)")

    def test_a_paused_bot_is_shown_with_its_reason_on_the_chat_page_and_list(self) -> None:
        membership_pause(chat=self.chat, bot=self.bot, reason="muted by Kemal: may not send messages")
        self.login_as(Role.VIEWER)
        self.assertContains(self.client.get(f"/chats/{self.chat.pk}/"), "paused: muted by Kemal: may not send messages")
        self.assertContains(self.client.get("/chats/"), "(1 paused)")

    def test_the_chat_page_shows_its_own_settings_beside_the_global_values(self) -> None:
        self.login_as(Role.VIEWER)
        self.assertContains(self.client.get(f"/chats/{self.chat.pk}/"), "None: every global setting applies.")
        Chat.objects.filter(pk=self.chat.pk).update(settings_overrides={"reply_probability": 0.1})
        page = self.client.get(f"/chats/{self.chat.pk}/")
        self.assertContains(page, '<code>reply_probability</code> 0.1 <small class="muted">(global 0.65)</small>')
        self.assertNotContains(page, "None: every global setting applies.")

    def test_a_discovered_group_shows_what_telegram_said_and_one_enable_button(self) -> None:
        chat, _ = chat_discover(
            telegram_chat_id=-1002000111222, title="Yeni", telegram_type="supergroup", is_forum=True
        )
        self.login_as(Role.VIEWER)
        self.assertContains(self.client.get("/chats/"), "discovered: enable on its page")
        page = self.client.get(f"/chats/{chat.pk}/")
        self.assertContains(page, "A bot was added to this supergroup (a forum), Telegram id -1002000111222")
        self.assertNotContains(page, "Enable this group")  # viewers may not
        self.login_as(Role.OPERATOR)
        response = self.client.post(f"/chats/{chat.pk}/", {"action": "enable"}, follow=True)
        self.assertContains(response, "Yeni: enabled.")
        chat.refresh_from_db()
        self.assertEqual((chat.is_enabled, chat.is_discovered), (True, False))

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

    def test_it_explains_quiet_hours_when_some_bots_are_outside_their_active_hours(self) -> None:
        self.login_as(Role.VIEWER)
        self.assertNotContains(self.client.get(f"/chats/{self.chat.pk}/"), 'id="quiet-hours"')
        MembershipFactory.create(chat=self.chat, bot=BotFactory.create(active_hours=[_hours_away()]))
        response = self.client.get(f"/chats/{self.chat.pk}/")
        self.assertContains(response, 'id="quiet-hours"')
        self.assertContains(response, f"1 of 2 bots active now: {_reason(self.chat.timezone)}")

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
