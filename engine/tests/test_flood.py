"""Flood control through the webhook: members cannot make the bots answer (and spend the LLM budget) without limit;
a prompt never grows past its size, and a request larger than the minute's allowance is refused."""

from __future__ import annotations

from unittest.mock import patch

from redis.exceptions import ConnectionError as RedisConnectionError

from chats.models import Message
from engine.models import Turn
from engine.services import flood, limits
from engine.services.prompts import CUT
from engine.tests.abuse import AbuseTestCase, sample
from engine.tests.pipeline import drain

SKIPS = "piyasa_flood_skips_total"
FLOODER, OTHER = 9001, 9002


class MemberFloodTests(AbuseTestCase):
    """Priority replies per member, chat and bot, shared in Redis and editable live."""

    def done(self) -> bool:
        return not Turn.objects.filter(status__in=[Turn.Status.PLANNED, Turn.Status.GENERATING]).exists()

    def test_forty_mentions_from_one_member_get_at_most_the_limit_in_turns_and_llm_calls(self) -> None:
        bot = self.bots[0]
        before = sample(SKIPS, reason="member_limit")
        outcomes = [self.member_post(f"@{bot.username} THYAO {i}?", user_id=FLOODER) for i in range(40)]
        other = self.member_post(f"@{bot.username} dolar ne olur?", user_id=OTHER, name="Zeynep")
        drain(20, until=self.done)

        assert [o["outcome"] for o in outcomes].count("stored") == 3
        assert [o["outcome"] for o in outcomes[3:]] == ["stored: no reply, member_limit"] * 37
        assert Message.objects.filter(bot=None).count() == 41  # every message is kept as history
        assert other["outcome"] == "stored"  # another member is still answered
        turns = Turn.objects.filter(kind=Turn.Kind.PRIORITY_REPLY)
        assert turns.count() == 4
        assert turns.filter(reply_to__sender_user_id=OTHER).count() == 1
        assert len(self.fake_llm.requests) == 4
        assert sample(SKIPS, reason="member_limit") == before + 37

    def test_the_chat_and_bot_minute_limits_decline_replies_whoever_asks(self) -> None:
        cases = [
            # (limits, who mentions which bot, the outcome of each, the reason counted)
            ({"chat_replies_per_min": 2}, [(1, 0), (2, 1), (3, 0)], ["stored", "stored", "chat_limit"], "chat_limit"),
            ({"bot_replies_per_min": 1}, [(1, 0), (2, 0), (3, 1)], ["stored", "bot_limit", "stored"], "bot_limit"),
            ({"member_replies": 1}, [(1, 0), (1, 1), (2, 1)], ["stored", "member_limit", "stored"], "member_limit"),
            ({"member_replies": 0}, [(1, 0)], ["member_limit"], "member_limit"),
        ]
        for values, posts, expected, reason in cases:
            with self.subTest(values=values):
                self.redis.flushdb()
                self.limits(**{"member_replies": 3, "chat_replies_per_min": 6, "bot_replies_per_min": 6, **values})
                before = sample(SKIPS, reason=reason)
                outcomes = [
                    str(self.member_post(f"@{self.bots[b].username} selam", user_id=100 + user)["outcome"])
                    for user, b in posts
                ]
                assert [o if o == "stored" else o.rpartition(", ")[2] for o in outcomes] == expected
                assert sample(SKIPS, reason=reason) == before + expected.count(reason)

    def test_the_limits_are_shared_through_redis_not_kept_in_a_process(self) -> None:
        caps, chat_id, bot_id = self.limits_now(), self.chat.pk, self.bots[0].pk

        def admit() -> flood.FloodSkip | None:
            return flood.priority_admit(chat_id=chat_id, bot_id=bot_id, user_id=FLOODER, caps=caps)

        assert [admit() for _ in range(3)] == [None, None, None]
        [member, *_] = flood.priority_windows(chat_id=chat_id, bot_id=bot_id, user_id=FLOODER, caps=caps)
        assert self.redis.zcard(limits.PREFIX + member.key) == 3  # what every worker reads
        assert admit() == flood.FloodSkip.MEMBER_LIMIT

    def test_the_windows_run_in_simulated_time(self) -> None:
        caps = self.limits_now()
        real, fast = (flood.priority_windows(chat_id=1, bot_id=2, user_id=3, caps=caps, scale=s) for s in (1.0, 10.0))
        assert [window.seconds for window in real] == [float(caps.member_window_s), 60.0, 60.0]
        assert [window.seconds for window in fast] == [caps.member_window_s / 10, 6.0, 6.0]
        assert [window.limit for window in fast] == [window.limit for window in real]

    def test_a_redis_outage_admits_the_reply_rather_than_crashing_the_webhook(self) -> None:
        with patch.object(limits, "reserve", side_effect=RedisConnectionError("down")):
            outcome = self.member_post(f"@{self.bots[0].username} selam", user_id=FLOODER)
        assert outcome["outcome"] == "stored"
        assert Turn.objects.count() == 1

    def limits_now(self) -> flood.AbuseLimits:
        from engine.selectors import settings_all

        return settings_all().abuse_limits


class PromptBudgetTests(AbuseTestCase):
    """Twenty posts of 4,000 characters: the next reply's request is trimmed, or refused when it cannot fit."""

    def flood_history(self) -> list[str]:
        texts = [f"uzun{i} " + "piyasa çok hareketli bugün " * 150 for i in range(20)]
        for i, text in enumerate(texts):
            self.member_post(text[:4000], user_id=500 + i)
        return texts

    def reply(self) -> Turn:
        self.member_post(f"@{self.bots[0].username} sen ne dersin?", user_id=OTHER, name="Zeynep")
        drain(20, until=lambda: Turn.objects.exclude(status=Turn.Status.PLANNED).count() == 1)
        return Turn.objects.get()

    def test_the_history_is_trimmed_newest_first_so_the_request_stays_under_its_size(self) -> None:
        texts = self.flood_history()
        assert sum(min(4000, len(text)) for text in texts) // 4 > 18_000  # the request untrimmed, in tokens

        self.reply()

        [request] = self.fake_llm.requests
        assert self.prompt_tokens() <= 3000  # abuse_limits.request_max_tokens by default
        user = request.body["messages"][1]["content"]
        assert "uzun19 " in user  # the newest post is kept, cut with a marker
        assert CUT + "»" in user
        assert "uzun0 " not in user  # the oldest were dropped
        assert "sen ne dersin?" in user  # the message answered is always there

    def test_a_smaller_request_size_trims_further(self) -> None:
        self.flood_history()
        self.limits(request_max_tokens=1200, message_max_chars=300)

        self.reply()

        assert self.prompt_tokens() <= 1200

    def test_a_request_larger_than_the_minutes_allowance_is_refused_not_admitted(self) -> None:
        cases = [
            ({"chat_llm_share": 0.5, "request_max_tokens": 20_000, "message_max_chars": 4096}, 12_000),
            ({"chat_llm_share": 1.0, "request_max_tokens": 20_000, "message_max_chars": 4096}, 12_000),
        ]
        self.flood_history()
        for values, tpm in cases:
            with self.subTest(values=values):
                Turn.objects.all().delete()
                self.redis.flushdb()
                self.limits(**values)
                before = sample(SKIPS, reason="request_too_large")

                turn = self.reply()

                assert turn.status == Turn.Status.SKIPPED
                assert "exceeds the allowance of" in turn.error
                assert f"{int(tpm * values['chat_llm_share'])}" in turn.error
                assert not self.fake_llm.requests  # no LLM call was made
                assert sample(SKIPS, reason="request_too_large") == before + 1
                assert not self.redis.keys(limits.PREFIX + "llm:tokens:*")  # and nothing was reserved
