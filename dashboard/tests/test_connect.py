"""The guided "Connect a Telegram group" flow: tokens (getMe) → add to group → discovered chat → enable →
preflight → start, against the fake Bot API."""

from __future__ import annotations

from django.contrib.auth.models import User

from accounts.roles import Role
from accounts.services import api_user_create
from bots.models import Bot
from bots.schemas import persona_default
from bots.services import bot_create
from chats.models import Chat
from chats.services import chat_create, chat_discover, membership_add
from config.testing.cases import RedisTestCase
from config.testing.fake_telegram import FakeTelegram, fake_telegram_for, make_token
from engine.selectors import settings_all
from engine.services import setting_set
from engine.services.connect import PERSONA_TEMPLATES
from engine.services.polling import poll_once

GROUP_ID = -1001234567890


class ConnectTestCase(RedisTestCase):
    """A fake Bot API for each test (the offline LLM), and a logged-in user of a role."""

    fake: FakeTelegram

    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_telegram_for(self, TELEGRAM_TIMEOUT_S=2.0, LLM_PROVIDER="offline")

    def login_as(self, role: Role) -> User:
        user, _ = api_user_create(username=f"{role.value}-connect-user", role=role)
        self.client.force_login(user)
        return user

    def paste(self, *tokens: str) -> str:
        response = self.client.post("/connect/", {"tokens": "\n".join(tokens)})
        return response.content.decode()


class TokenStepTests(ConnectTestCase):
    def test_anonymous_users_are_sent_to_the_login_page(self) -> None:
        response = self.client.get("/connect/")
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")

    def test_a_viewer_may_not_connect_bots(self) -> None:
        self.login_as(Role.VIEWER)
        assert self.client.get("/connect/").status_code == 403

    def test_a_valid_token_creates_the_bot_as_telegram_names_it(self) -> None:
        self.login_as(Role.OPERATOR)
        fake_bot = self.fake.add_bot(username="borsaci_bot", first_name="Borsacı", can_read_all_group_messages=True)
        response = self.client.post("/connect/", {"tokens": f"  {fake_bot.token}  \n\n"})
        assert response.status_code == 200
        bot = Bot.objects.get()
        assert (bot.name, bot.username, bot.token) == ("Borsacı", "borsaci_bot", fake_bot.token)
        self.assertContains(response, f"@borsaci_bot (id {fake_bot.id})")
        self.assertContains(response, "reads all group messages")
        self.assertNotContains(response, fake_bot.token)
        assert self.fake.requests("getMe", token=fake_bot.token)

    def test_an_invalid_token_shows_unauthorized_at_its_line_and_saves_nothing_for_it(self) -> None:
        self.login_as(Role.OPERATOR)
        good = self.fake.add_bot(username="good_bot", can_read_all_group_messages=True)
        unknown = make_token(9_999_999)
        response = self.client.post("/connect/", {"tokens": f"{unknown}\n{good.token}\nnot-a-token"})
        assert response.status_code == 400
        assert list(Bot.objects.values_list("username", flat=True)) == ["good_bot"]
        page = response.content.decode()
        line_1 = page.split('data-line="1"')[1].split("</li>")[0]
        assert "not saved" in line_1
        assert "Unauthorized" in line_1
        assert unknown not in page
        assert "is not a Telegram bot token" in page.split('data-line="3"')[1].split("</li>")[0]

    def test_a_bot_with_privacy_mode_on_is_warned_about_with_the_fix(self) -> None:
        self.login_as(Role.OPERATOR)
        token = self.fake.add_bot(username="private_bot").token
        page = self.paste(token)
        assert "privacy mode on" in page
        assert "will not see members&#x27; ordinary messages" in page
        assert "/setprivacy → the bot → Disable" in page
        assert "group admin" in page

    def test_a_new_bot_may_take_a_demo_persona_and_an_existing_one_keeps_its_own(self) -> None:
        self.login_as(Role.OPERATOR)
        kept = bot_create(name="Eski", username="eski_bot", token=make_token(5_555_555))
        before = kept.persona
        new, old = self.fake.add_bot(username="yeni_bot"), self.fake.add_bot(username="eski_bot")
        template = next(iter(PERSONA_TEMPLATES.values()))
        self.client.post("/connect/", {"tokens": f"{new.token}\n{old.token}", "template": template.username})
        assert Bot.objects.get(username="yeni_bot").persona == template.persona.model_dump(mode="json")
        kept.refresh_from_db()
        assert kept.persona == before

    def test_without_a_template_a_new_bot_has_the_default_persona(self) -> None:
        self.login_as(Role.OPERATOR)
        self.paste(self.fake.add_bot(username="yalin_bot").token)
        assert Bot.objects.get().persona == persona_default()

    def test_an_existing_bot_matched_by_username_is_updated_and_keeps_its_name(self) -> None:
        self.login_as(Role.OPERATOR)
        existing = bot_create(name="Emekli Ahmet", username="ahmet_bot", token=make_token(1_111_111))
        fake_bot = self.fake.add_bot(username="ahmet_bot", first_name="Ahmet")
        page = self.paste(fake_bot.token)
        existing.refresh_from_db()
        assert (Bot.objects.count(), existing.name, existing.token) == (1, "Emekli Ahmet", fake_bot.token)
        assert "updated" in page

    def test_the_add_to_group_step_links_each_bot_to_startgroup(self) -> None:
        self.login_as(Role.OPERATOR)
        first, second = self.fake.add_bot(username="bir_bot"), self.fake.add_bot(username="iki_bot")
        page = self.paste(first.token, second.token)
        assert 'href="https://t.me/bir_bot?startgroup=true"' in page
        assert 'href="https://t.me/iki_bot?startgroup=true"' in page
        assert "Waiting for a bot to be added to a group" in page


class DiscoveryStepTests(ConnectTestCase):
    def test_the_discovered_chat_shows_up_after_the_bot_is_added_to_the_group(self) -> None:
        self.login_as(Role.OPERATOR)
        token = self.fake.add_bot(username="yeni_bot").token
        self.paste(token)
        assert self.client.get("/connect/chats.json").json() == {"chats": []}

        self.fake.set_bot_status(GROUP_ID, token, "member", chat_title="Borsa Grubu")
        poll_once(bot=Bot.objects.get(), timeout=0)

        chat = Chat.objects.get(telegram_chat_id=GROUP_ID)
        assert self.client.get("/connect/chats.json").json() == {
            "chats": [
                {"id": chat.pk, "title": "Borsa Grubu", "discovered": True, "enabled": False,
                 "url": f"/connect/chats/{chat.pk}/"}
            ]
        }  # fmt: skip
        self.assertContains(self.client.get("/connect/"), f'href="/connect/chats/{chat.pk}/"')

    def test_chats_of_bots_not_connected_in_this_session_are_not_listed(self) -> None:
        self.login_as(Role.OPERATOR)
        other = bot_create(name="Başka", username="baska_bot", token=make_token(2_222_222))
        chat, _ = chat_discover(telegram_chat_id=GROUP_ID, title="Başka grup", telegram_type="group", is_forum=False)
        membership_add(chat=chat, bot=other)
        assert self.client.get("/connect/chats.json").json() == {"chats": []}


class EnableStepTests(ConnectTestCase):
    def setUp(self) -> None:
        super().setUp()
        fake_bot = self.fake.add_bot(username="grup_bot")
        self.bot = bot_create(name="Grup", username="grup_bot", token=fake_bot.token)
        self.chat, _ = chat_discover(
            telegram_chat_id=GROUP_ID, title="Borsa", telegram_type="supergroup", is_forum=False
        )
        membership_add(chat=self.chat, bot=self.bot)
        setting_set(key="simulation_active", value=False)
        self.url = f"/connect/chats/{self.chat.pk}/"

    def test_a_discovered_chat_offers_enable_and_no_preflight_yet(self) -> None:
        self.login_as(Role.OPERATOR)
        response = self.client.get(self.url)
        self.assertContains(response, 'id="enable-button"')
        self.assertNotContains(response, 'id="preflight-checks"')
        assert not self.fake.requests("getMe")

    def test_enable_takes_the_chat_in_and_shows_each_preflight_check(self) -> None:
        self.login_as(Role.OPERATOR)
        response = self.client.post(self.url, {"action": "enable"}, follow=True)
        self.chat.refresh_from_db()
        assert self.chat.is_enabled
        assert not self.chat.is_discovered
        page = response.content.decode()
        for name in ("database", "migrations", "redis", "workers", "llm"):
            assert f"<td>{name}" in page, name
        getme_row = page.split(f"<td>bot Grup [{self.bot.masked_token}] getMe</td>")[1].split("</tr>")[0]
        assert "warn" in getme_row
        assert "/setprivacy" in getme_row
        assert 'id="start-button"' in page

    def test_enable_asks_telegram_what_the_group_allows_and_shows_it(self) -> None:
        self.fake.set_chat(GROUP_ID, slow_mode_delay=30, available_reactions=[])
        self.login_as(Role.OPERATOR)
        page = self.client.post(self.url, {"action": "enable"}, follow=True).content.decode()
        capabilities = page.split('id="chat-capabilities"')[1].split("</p>")[0]
        assert "refreshed" in capabilities
        assert "slow mode 30 s between a bot's messages" in capabilities
        assert "reactions off" in capabilities
        assert "members may send messages" in capabilities
        self.chat.refresh_from_db()
        assert self.chat.slow_mode_delay == 30

    def test_preflight_checks_only_the_chats_bots(self) -> None:
        bot_create(name="Dışarıda", username="disarida_bot", token=make_token(3_333_333))
        self.chat.is_enabled, self.chat.discovered_at = True, None
        self.chat.save()
        self.login_as(Role.OPERATOR)
        page = self.client.get(self.url).content.decode()
        assert "bot Grup [" in page
        assert "Dışarıda" not in page

    def test_start_starts_the_simulation_and_opens_the_live_chat(self) -> None:
        self.login_as(Role.OPERATOR)
        self.client.post(self.url, {"action": "enable"})
        response = self.client.post(self.url, {"action": "start"})
        self.assertRedirects(response, f"/chats/{self.chat.pk}/", fetch_redirect_response=False)
        self.chat.refresh_from_db()
        assert self.chat.is_enabled
        assert settings_all().simulation_active

    def test_a_viewer_can_neither_enable_nor_start(self) -> None:
        self.login_as(Role.VIEWER)
        assert self.client.post(self.url, {"action": "enable"}).status_code == 403
        self.chat.refresh_from_db()
        assert self.chat.is_discovered


class BotPageTelegramCheckTests(ConnectTestCase):
    def test_the_bot_page_warns_when_privacy_mode_is_on_with_the_fix(self) -> None:
        self.login_as(Role.OPERATOR)
        bot = bot_create(name="Gizli", username="gizli_bot", token=self.fake.add_bot(username="gizli_bot").token)
        chat = chat_create(title="Borsa", transport=Chat.Transport.TELEGRAM, telegram_chat_id=GROUP_ID)
        membership_add(chat=chat, bot=bot)  # it listens there
        self.assertContains(self.client.get(f"/bots/{bot.pk}/"), 'id="telegram-check-button"')
        response = self.client.post(f"/bots/{bot.pk}/telegram-check/", follow=True)
        self.assertRedirects(response, f"/bots/{bot.pk}/")
        page = response.content.decode()
        assert 'class="flash-warning"' in page
        assert "will not see members&#x27; ordinary messages" in page
        assert "/setprivacy → the bot → Disable" in page

    def test_privacy_mode_of_a_bot_in_no_enabled_group_is_only_noted(self) -> None:
        self.login_as(Role.OPERATOR)
        bot = bot_create(name="Gizli", username="gizli_bot", token=self.fake.add_bot(username="gizli_bot").token)
        page = self.client.post(f"/bots/{bot.pk}/telegram-check/", follow=True).content.decode()
        assert 'class="flash-warning"' not in page
        assert "privacy mode is on, which matters once it is in an enabled group" in page

    def test_the_bot_page_shows_no_privacy_warning_before_the_check_is_asked_for(self) -> None:
        self.login_as(Role.OPERATOR)
        bot = bot_create(name="Gizli", username="gizli_bot", token=self.fake.add_bot(username="gizli_bot").token)
        membership_add(
            chat=chat_create(title="B", transport=Chat.Transport.TELEGRAM, telegram_chat_id=GROUP_ID), bot=bot
        )
        self.assertNotContains(self.client.get(f"/bots/{bot.pk}/"), "/setprivacy")
        assert not self.fake.requests("getMe")

    def test_the_bot_page_says_so_when_the_bot_reads_all_messages(self) -> None:
        self.login_as(Role.OPERATOR)
        token = self.fake.add_bot(username="acik_bot", can_read_all_group_messages=True).token
        bot = bot_create(name="Açık", username="acik_bot", token=token)
        response = self.client.post(f"/bots/{bot.pk}/telegram-check/", follow=True)
        self.assertContains(response, "it reads all group messages")
        self.assertNotContains(response, "privacy mode is on")

    def test_a_revoked_token_shows_unauthorized(self) -> None:
        self.login_as(Role.OPERATOR)
        bot = bot_create(name="Eski", username="eski_bot", token=make_token(4_444_444))
        response = self.client.post(f"/bots/{bot.pk}/telegram-check/", follow=True)
        self.assertContains(response, "Unauthorized")

    def test_a_viewer_may_not_call_telegram(self) -> None:
        self.login_as(Role.VIEWER)
        bot = bot_create(name="Gizli", username="gizli_bot", token=self.fake.add_bot(username="gizli_bot").token)
        assert self.client.post(f"/bots/{bot.pk}/telegram-check/").status_code == 403
        assert not self.fake.requests("getMe")
