from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bots.demo import demo_crowd_create
from bots.models import Bot, Memory
from bots.schemas import Persona
from bots.tests.factories import BotFactory, HoldingFactory, MemoryFactory, StanceFactory
from chats.models import Chat, Membership, Message
from chats.tests.factories import ChatFactory, MembershipFactory
from engine.models import Turn
from engine.runtime_settings import RuntimeConfig
from engine.selectors import settings_all
from engine.services.context import (
    TurnContext,
    answerable,
    build_context,
    own_statements_of,
    persona_refresh_due,
    rank_memories,
    score_target,
    with_own_statements,
)
from engine.services.loading import LoadedTurn, load_batch
from engine.tests.factories import TurnFactory, crowd, say


def _config(**overrides: Any) -> RuntimeConfig:
    return settings_all().replace(**overrides)


def _loaded(turn: Turn, config: RuntimeConfig | None = None) -> LoadedTurn:
    """The turn as a batch of one loads it."""
    (loaded,) = load_batch([turn.pk], config=config or _config())
    return loaded


def _context(turn: Turn, *, config: RuntimeConfig, rng: random.Random) -> TurnContext:
    """The turn's whole context, its past statements included, as generation builds it for a batch of one."""
    return with_own_statements([build_context(_loaded(turn, config), config=config, rng=rng)])[0]


# --- history ----------------------------------------------------------------------------------------


class HistoryTests(TestCase):
    def test_history_labels_bots_by_name_members_by_telegram_name_and_marks_itself(self) -> None:
        chat, (me, other) = crowd(2)
        chat.title = "Borsa Kulübü"
        chat.save()
        me.name, other.name = "Ayşe", "Kemal"
        me.save()
        other.save()
        say(chat, "Dolar ne olur?", sender_name="Mehmet Yılmaz", minutes_ago=3)
        say(chat, "Bence yükselir.", bot=other, minutes_ago=2)
        say(chat, "Katılmıyorum.", bot=me, minutes_ago=1)
        say(chat, "Sen ne diyorsun?", sender_name="", sender_username="zeynep_k", minutes_ago=0)
        context = _context(TurnFactory.create(chat=chat, bot=me), config=_config(), rng=random.Random(1))
        assert [(line.speaker, line.is_bot, line.is_self) for line in context.history] == [
            ("Mehmet Yılmaz", False, False),
            ("Kemal", True, False),
            ("Ayşe", True, True),
            ("@zeynep_k", False, False),
        ]
        assert all("Borsa Kulübü" not in line.speaker for line in context.history)


# --- reply target -----------------------------------------------------------------------------------


class ReplyTargetTests(TestCase):
    def test_a_members_question_mentioning_the_bot_outscores_bot_chatter(self) -> None:
        chat, (me, other) = crowd(2)
        persona = Persona()
        question = say(chat, f"@{me.username} THYAO için ne dersin?", sender_name="Mehmet", minutes_ago=5)
        chatter = say(chat, "Piyasa sakin bugün.", bot=other, minutes_ago=1)
        asked = score_target(question, bot=me, persona=persona, topic="BIST", age_rank=5)
        assert asked > score_target(chatter, bot=me, persona=persona, topic="BIST", age_rank=0)
        plain = say(chat, "THYAO için ne dersiniz?", sender_name="Mehmet")
        assert asked > score_target(plain, bot=me, persona=persona, topic="BIST", age_rank=5)

    def test_watchlist_and_topic_overlap_raise_the_score(self) -> None:
        chat, (me,) = crowd(1)
        message = say(chat, "BIST tarafında THYAO hareketli", sender_name="Mehmet")
        watching = Persona(watchlist=["BIST:THYAO"])
        base = score_target(message, bot=me, persona=Persona(), topic="FX", age_rank=0)
        assert score_target(message, bot=me, persona=watching, topic="FX", age_rank=0) > base
        assert score_target(message, bot=me, persona=Persona(), topic="BIST", age_rank=0) > base

    def test_a_reply_turn_usually_answers_the_member_who_asked_the_bot(self) -> None:
        chat, (me, other) = crowd(2)
        question = say(chat, f"@{me.username} dolar ne olur sence?", sender_name="Mehmet", minutes_ago=10)
        for n in range(5):
            say(chat, f"Piyasa yorumu {n}", bot=other, minutes_ago=9 - n)
        turn = TurnFactory.create(chat=chat, bot=me, kind=Turn.Kind.REPLY)
        targets = Counter(
            getattr(_context(turn, config=_config(), rng=random.Random(seed)).target, "pk", None) == question.pk
            for seed in range(60)
        )
        assert targets[True] > 40

    def test_a_reply_turn_never_targets_the_bots_own_message(self) -> None:
        chat, (me, _other) = crowd(2)
        say(chat, "Kendi mesajım", bot=me, minutes_ago=1)
        say(chat, "Bir soru?", sender_name="Mehmet", minutes_ago=2)
        turn = TurnFactory.create(chat=chat, bot=me, kind=Turn.Kind.REPLY)
        for seed in range(20):
            target = _context(turn, config=_config(), rng=random.Random(seed)).target
            assert target is not None
            assert target.bot_id != me.pk

    def test_a_planned_reply_target_outside_the_window_is_still_used(self) -> None:
        chat, (me,) = crowd(1)
        old = say(chat, "Eski soru: faiz ne olur?", sender_name="Mehmet", minutes_ago=120)
        for n in range(25):
            say(chat, f"sohbet {n}", sender_name="Ali", minutes_ago=60 - n)
        turn = TurnFactory.create(chat=chat, bot=me, kind=Turn.Kind.PRIORITY_REPLY, reply_to=old)
        context = _context(turn, config=_config(), rng=random.Random(0))
        assert context.target is not None
        assert (context.target.pk, context.target.text) == (old.pk, old.text)
        assert context.topic == "Makro"

    def test_a_proactive_turn_has_no_target(self) -> None:
        chat, (me,) = crowd(1)
        say(chat, "Soru?", sender_name="Mehmet")
        context = _context(TurnFactory.create(chat=chat, bot=me), config=_config(), rng=random.Random(0))
        assert context.target is None
        assert context.mention is None


# --- topic, stances, memories, own statements -------------------------------------------------------


class TopicAndStanceTests(TestCase):
    def test_the_topic_comes_from_recent_talk(self) -> None:
        chat, (me,) = crowd(1)
        say(chat, "Dolar yine yükseldi", sender_name="Ali", minutes_ago=3)
        say(chat, "Bitcoin de coştu, kripto tarafı hareketli", sender_name="Veli", minutes_ago=1)
        context = _context(TurnFactory.create(chat=chat, bot=me), config=_config(), rng=random.Random(0))
        assert context.topic == "Kripto"

    def test_stances_on_the_topic_come_first(self) -> None:
        chat, (me,) = crowd(1)
        StanceFactory.create(bot=me, topic="FX", confidence=0.9)
        on_topic = StanceFactory.create(bot=me, topic="Kripto", confidence=0.2)
        say(chat, "Bitcoin coştu", sender_name="Ali")
        context = _context(TurnFactory.create(chat=chat, bot=me), config=_config(), rng=random.Random(0))
        assert context.stances[0] == on_topic


class AskedSymbolTests(TestCase):
    """The issue's reproduction: the demo crowd asked about a symbol each answers about that symbol."""

    chat: Chat
    bots: dict[str, Bot]

    @classmethod
    def setUpTestData(cls) -> None:
        demo = demo_crowd_create()
        cls.chat, cls.bots = demo.chat, {bot.name.split()[0]: bot for bot in demo.bots}

    def _asked(self, name: str, question: str) -> TurnContext:
        bot = self.bots[name]
        say(self.chat, "Bugün borsa çok sakin, BIST yatay.", bot=self.bots["Elif"], minutes_ago=2)
        message = say(self.chat, f"@{bot.username} {question}", sender_name="Ali", minutes_ago=1)
        turn = TurnFactory.create(chat=self.chat, bot=bot, kind=Turn.Kind.PRIORITY_REPLY, reply_to=message)
        return _context(turn, config=_config(news_trigger_enabled=False), rng=random.Random(0))

    def test_a_question_naming_a_symbol_sets_the_topic_stances_and_holdings(self) -> None:
        cases = [
            # bot, question, topic, symbol, view, stance topics, holding symbols
            ("Kemal", "BTCUSDT 100 binin üstünde kalır mı?", "Kripto", "BTCUSDT", "topic", ["Kripto"], []),
            ("Kemal", "XAUUSD için ne dersin?", "FX", "XAUUSD", "symbol", ["XAUUSD"], ["XAUUSD"]),
            ("Mert", "THYAO bu hafta ne yapar?", "BIST", "BIST:THYAO", "symbol", ["BIST:THYAO"], ["BIST:THYAO"]),
            ("Zeynep", "ASELS kırar mı?", "BIST", "BIST:ASELS", "topic", ["BIST:EREGL", "BIST:THYAO"], ["BIST:EREGL"]),
            ("Zeynep", "EREGL hedef neresi?", "BIST", "BIST:EREGL", "symbol", ["BIST:EREGL", "BIST:THYAO"], None),
            ("Burak", "XAUUSD alınır mı?", "FX", "XAUUSD", "none", [], []),
            ("Elif", "USDTRY 40 olur mu?", "FX", "USDTRY", "symbol", ["USDTRY"], ["USDTRY"]),
            # No stance on ASELS: the view on BIST itself comes before the one on another share.
            ("Kemal", "ASELS alınır mı?", "BIST", "BIST:ASELS", "topic", ["BIST", "BIST:THYAO"], None),
        ]
        for name, question, topic, symbol, view, stances, holdings in cases:
            with self.subTest(bot=name, question=question):
                context = self._asked(name, question)
                assert (context.topic, context.symbol, context.view) == (topic, symbol, view)
                assert [s.topic for s in context.stances] == stances
                if holdings is not None:
                    assert [h.symbol for h in context.holdings] == holdings

    def test_the_holding_on_the_symbol_asked_about_comes_first(self) -> None:
        context = self._asked("Zeynep", "EREGL hedef neresi?")
        assert [h.symbol for h in context.holdings] == ["BIST:EREGL"]  # her BTCUSDT holding is another market
        context = self._asked("Hüseyin", "EREGL temettü verir mi?")
        assert context.holdings[0].symbol == "BIST:EREGL"
        assert {h.symbol for h in context.holdings} == {"BIST:EREGL", "BIST:TUPRS", "BIST:AKBNK"}

    def test_memories_on_the_symbol_come_first_and_others_are_left_out(self) -> None:
        bot = self.bots["Mert"]
        thy, btc = _memories(bot, "THYAO'yu Kemal abi önerdi, 20 lot aldım", "Bitcoin'i ilk 2021'de duydum")
        context = self._asked("Mert", "THYAO bu hafta ne yapar?")
        assert context.memories[0] == thy
        assert btc not in context.memories

    def test_without_a_symbol_the_stances_and_holdings_stay_as_before(self) -> None:
        context = self._asked("Kemal", "bugün ne düşünüyorsun?")
        assert (context.symbol, context.view) == (None, None)
        assert len(context.holdings) == 3
        assert len(context.stances) == 4


class AnswerOnceTests(TestCase):
    """No bot answers one message twice; a message addressed to a bot waits for that bot's answer first."""

    def _reply_targets(self, turn: Turn, seeds: int = 30) -> set[int | None]:
        return {
            getattr(_context(turn, config=_config(), rng=random.Random(n)).target, "pk", None) for n in range(seeds)
        }

    def test_the_addressed_bot_does_not_answer_its_question_again_in_an_ordinary_reply(self) -> None:
        chat, (kemal, _burak) = crowd(2)
        question = say(chat, f"@{kemal.username} THYAO ne olur?", sender_name="Ali", minutes_ago=3)
        TurnFactory.create(chat=chat, bot=kemal, kind=Turn.Kind.PRIORITY_REPLY, reply_to=question)
        say(chat, "THYAO güçlü, uzun vadede yükselir.", bot=kemal, reply_to=question, minutes_ago=2)
        say(chat, "Bence de.", sender_name="Veli", minutes_ago=1)
        turn = TurnFactory.create(chat=chat, bot=kemal, kind=Turn.Kind.REPLY)
        assert question.pk not in self._reply_targets(turn)

    def test_a_bot_never_answers_a_message_it_already_answered(self) -> None:
        chat, (me, _other) = crowd(2)
        question = say(chat, "Dolar ne olur?", sender_name="Ali", minutes_ago=2)
        say(chat, "Yükselir bence.", bot=me, reply_to=question, minutes_ago=1)
        turn = TurnFactory.create(chat=chat, bot=me, kind=Turn.Kind.REPLY)
        assert self._reply_targets(turn) == {None}

    def test_others_wait_until_the_addressed_bot_has_answered_then_may_join(self) -> None:
        chat, (elif_, other) = crowd(2)
        question = say(chat, f"@{elif_.username} faiz kararı ne olur?", sender_name="Ali", minutes_ago=1)
        priority = TurnFactory.create(chat=chat, bot=elif_, kind=Turn.Kind.PRIORITY_REPLY, reply_to=question)
        turn = TurnFactory.create(chat=chat, bot=other, kind=Turn.Kind.REPLY)
        assert question.pk not in self._reply_targets(turn)  # Elif's answer is still being written
        say(chat, "Sabit kalır bence.", bot=elif_, reply_to=question, minutes_ago=0.5)
        Turn.objects.filter(pk=priority.pk).update(status=Turn.Status.SENT)
        assert question.pk in self._reply_targets(turn)

    def test_a_question_whose_priority_reply_was_dropped_may_be_answered_by_any_bot(self) -> None:
        chat, (elif_, other) = crowd(2)
        question = say(chat, f"@{elif_.username} faiz ne olur?", sender_name="Ali", minutes_ago=1)
        TurnFactory.create(
            chat=chat, bot=elif_, kind=Turn.Kind.PRIORITY_REPLY, reply_to=question, status=Turn.Status.SKIPPED
        )
        for bot in (elif_, other):
            with self.subTest(bot=bot.name):
                assert question.pk in self._reply_targets(TurnFactory.create(chat=chat, bot=bot, kind=Turn.Kind.REPLY))

    def test_answerable_reads_only_the_loaded_history(self) -> None:
        chat, (me, other) = crowd(2)
        question = say(chat, f"@{other.username} ne dersin?", sender_name="Ali", minutes_ago=2)
        TurnFactory.create(chat=chat, bot=other, kind=Turn.Kind.PRIORITY_REPLY, reply_to=question)
        plain = say(chat, "Herkese selam", sender_name="Veli", minutes_ago=1)
        (loaded,) = load_batch([TurnFactory.create(chat=chat, bot=me, kind=Turn.Kind.REPLY).pk], config=_config())
        with CaptureQueriesContext(connection) as queries:
            assert [m.pk for m in answerable(loaded.history, me.pk)] == [plain.pk]
        assert len(queries) == 0
        assert Message.objects.get(pk=question.pk).reply_to is None


def _memories(bot: Bot, *contents: str) -> list[Memory]:
    return [MemoryFactory.create(bot=bot, content=content, relevance=0.5) for content in contents]


class MemoryRankingTests(TestCase):
    def test_rank_memories_depends_on_the_topic(self) -> None:
        bot = BotFactory.create()
        memories = _memories(bot, "Dedesi kripto paralardan hiç hoşlanmaz", "Makro verileri her ay izler")
        assert rank_memories(memories, "Kripto", None)[0] == memories[0]
        assert rank_memories(memories, "Makro", None)[0] == memories[1]

    def test_rank_memories_depends_on_the_message_answered(self) -> None:
        chat = ChatFactory.create()
        bot = BotFactory.create()
        memories = _memories(bot, "Kızı üniversitede ekonomi okuyor", "Emekli öğretmen, Kadıköy'de oturuyor")
        school = say(chat, "Çocuklar üniversitede ne okuyor?", sender_name="Ali")
        home = say(chat, "Kadıköy'de kira ne kadar?", sender_name="Ali")
        assert rank_memories(memories, "Makro", school)[0] == memories[0]
        assert rank_memories(memories, "Makro", home)[0] == memories[1]

    def test_rank_memories_uses_the_topic_keywords(self) -> None:
        # Memories rarely name the chat topic ("Kripto", "FX") but they do name bitcoin or the dollar.
        bot = BotFactory.create()
        memories = _memories(
            bot,
            "Borsada ilk hissesini 2008'de aldı",
            "2017'de bitcoin ile tanıştı",
            "Her sabah dolar kurunu kontrol eder",
        )
        assert rank_memories(memories, "Kripto", None)[0] == memories[1]
        assert rank_memories(memories, "FX", None)[0] == memories[2]
        assert rank_memories(memories, "BIST", None)[0] == memories[0]

    def test_rank_memories_prefers_less_used_memories_among_equals(self) -> None:
        bot = BotFactory.create()
        worn, fresh = _memories(bot, "Kahve sever", "Çay sever")
        worn.usage_count = 10
        assert rank_memories([worn, fresh], "BIST", None)[0] == fresh
        assert len(rank_memories(_memories(bot, *(f"anı {n}" for n in range(10))), "BIST", None)) == 3


class OwnStatementTests(TestCase):
    def test_own_statements_are_this_bots_messages_on_the_topic_newest_first(self) -> None:
        chat, (me, other) = crowd(2)
        say(chat, "eski BIST yorumu", bot=me, minutes_ago=5, metadata={"topic": "BIST"})
        say(chat, "yeni BIST yorumu", bot=me, minutes_ago=1, metadata={"topic": "BIST"})
        say(chat, "FX yorumu", bot=me, metadata={"topic": "FX"})
        say(chat, "başkasının BIST yorumu", bot=other, metadata={"topic": "BIST"})
        say(chat, "üye BIST yorumu", sender_name="Ali", metadata={"topic": "BIST"})
        found = own_statements_of({(me.pk, "BIST"), (me.pk, "Kripto")})
        assert found.get((me.pk, "BIST"), []) == ["yeni BIST yorumu", "eski BIST yorumu"]
        assert found.get((me.pk, "Kripto"), []) == []

    def test_a_batchs_own_statements_are_read_in_one_query_each_bot_on_its_own_topic(self) -> None:
        chat, (me, other) = crowd(2)
        for minutes_ago in range(5):
            say(chat, f"BIST yorumu {minutes_ago}", bot=me, minutes_ago=minutes_ago, metadata={"topic": "BIST"})
        say(chat, "FX yorumu", bot=me, metadata={"topic": "FX"})
        say(chat, "başkasının FX yorumu", bot=other, metadata={"topic": "FX"})
        say(chat, "başkasının BIST yorumu", bot=other, metadata={"topic": "BIST"})
        built = [
            build_context(_loaded(TurnFactory.create(chat=chat, bot=bot)), config=_config(), rng=random.Random(0))
            for bot in (me, other)
        ]
        contexts = [replace(built[0], topic="BIST"), replace(built[1], topic="FX")]

        with CaptureQueriesContext(connection) as queries:
            contexts = with_own_statements(contexts)

        assert len(queries) == 1
        assert contexts[0].own_statements == ["BIST yorumu 0", "BIST yorumu 1", "BIST yorumu 2"]  # the latest three
        assert contexts[1].own_statements == ["başkasının FX yorumu"]


# --- persona refresh --------------------------------------------------------------------------------


def _membership(**fields: Any) -> Membership:
    return MembershipFactory.create(**fields)


def _refresh_due(membership: Membership, kind: str = Turn.Kind.PROACTIVE) -> bool:
    turn = TurnFactory.create(chat=membership.chat, bot=membership.bot, kind=kind)
    config = _config(persona_refresh_interval=8, persona_refresh_minutes=30)
    return persona_refresh_due(turn.kind, _loaded(turn).refresh, config)


class PersonaRefreshTests(TestCase):
    def test_persona_refresh_is_due_without_state(self) -> None:
        assert _refresh_due(_membership())
        turn = TurnFactory.create()
        assert persona_refresh_due(turn.kind, _loaded(turn).refresh, _config())  # no membership at all

    def test_persona_refresh_is_due_after_n_messages_or_m_minutes(self) -> None:
        now = timezone.now()
        assert _refresh_due(_membership(messages_since_refresh=8, persona_refreshed_at=now))
        assert _refresh_due(_membership(messages_since_refresh=1, persona_refreshed_at=now - timedelta(minutes=31)))

    def test_persona_refresh_is_not_due_otherwise(self) -> None:
        now = timezone.now()
        assert not _refresh_due(_membership(messages_since_refresh=7, persona_refreshed_at=now - timedelta(minutes=29)))
        assert not _refresh_due(_membership(messages_since_refresh=0, persona_refreshed_at=now))

    def test_priority_replies_always_get_the_full_persona(self) -> None:
        membership = _membership(messages_since_refresh=0, persona_refreshed_at=timezone.now())
        assert _refresh_due(membership, Turn.Kind.PRIORITY_REPLY)
        context = _context(
            TurnFactory.create(chat=membership.chat, bot=membership.bot, kind=Turn.Kind.PRIORITY_REPLY),
            config=_config(),
            rng=random.Random(0),
        )
        assert context.full_persona


# --- the whole context ------------------------------------------------------------------------------


def _context_queries(size: int) -> int:
    chat, bots = crowd(size)
    me = bots[0]
    for bot in bots:
        StanceFactory.create(bot=bot)
        HoldingFactory.create(bot=bot)
        _memories(bot, "Kadıköy'de oturuyor", "Kripto sever")
    for n, bot in enumerate(bots):
        say(chat, f"Dolar {n} yorumu", bot=bot, minutes_ago=size - n, metadata={"topic": "FX"})
        say(chat, f"@{me.username} ne dersin {n}?", sender_name=f"Üye {n}", minutes_ago=size - n)
    turn = TurnFactory.create(chat=chat, bot=me, kind=Turn.Kind.REPLY)
    with CaptureQueriesContext(connection) as queries:
        _context(turn, config=_config(mention_probability=1.0), rng=random.Random(3))
    return len(queries)


class BuildContextTests(TestCase):
    def test_build_context_gathers_stances_holdings_and_a_mention(self) -> None:
        chat, (me, other) = crowd(2)
        StanceFactory.create(bot=me, topic="BIST:THYAO")
        HoldingFactory.create(bot=me, symbol="BIST:AKBNK")
        say(chat, "THYAO borsada öne çıkıyor", bot=other)
        turn = TurnFactory.create(chat=chat, bot=me, kind=Turn.Kind.REPLY)
        context = _context(turn, config=_config(mention_probability=1.0), rng=random.Random(0))
        assert [s.topic for s in context.stances] == ["BIST:THYAO"]
        assert [h.symbol for h in context.holdings] == ["BIST:AKBNK"]
        assert context.mention == other.username
        assert context.language == chat.language
        assert context.length in {"short", "medium", "long"}

    def test_build_context_runs_a_constant_number_of_queries_whatever_the_crowd(self) -> None:
        small, large = _context_queries(3), _context_queries(30)
        assert small == large
        assert small <= 12


class HeadlineTests(TestCase):
    def test_a_fresh_headline_on_the_topic_is_used_once_per_chat(self) -> None:
        from engine.models import NewsItem

        chat, (me, other) = crowd(2)
        say(chat, "Merkez bankası faiz kararı ne olur?", sender_name="Ayşe")
        for index, title in enumerate(["Merkez Bankası faizi sabit tuttu", "TCMB enflasyon raporu yayımlandı"]):
            NewsItem.objects.create(
                source="https://example.org/rss",
                uid=f"u{index}",
                title=title,
                language="tr",
                topics=["Makro"],
                published_at=timezone.now() - timedelta(minutes=index + 1),
            )
        config = _config(news_trigger_enabled=True, news_trigger_probability=1.0)
        first_turn = TurnFactory.create(chat=chat, bot=me, kind=Turn.Kind.PROACTIVE)
        first = _context(first_turn, config=config, rng=random.Random(1))
        assert first.topic == "Makro"
        assert first.headline in {"Merkez Bankası faizi sabit tuttu", "TCMB enflasyon raporu yayımlandı"}
        Turn.objects.filter(pk=first_turn.pk).update(inputs={"news_id": first.headline_id})
        second = _context(TurnFactory.create(chat=chat, bot=other), config=config, rng=random.Random(1))
        assert second.headline is not None
        assert second.headline_id != first.headline_id

    def test_a_chat_with_feeds_of_its_own_takes_headlines_from_them_only(self) -> None:
        from engine.models import NewsItem

        chat, (me, _) = crowd(2)
        say(chat, "Merkez bankası faiz kararı ne olur?", sender_name="Ayşe")
        for source in ("https://example.org/rss", "https://own.example.org/rss"):
            NewsItem.objects.create(
                source=source,
                uid=source,
                title=f"Faiz kararı ({source})",
                topics=["Makro"],
                published_at=timezone.now(),
            )
        chat.settings_overrides = {"news_feed_urls": ["https://own.example.org/rss"], "news_trigger_probability": 1}
        chat.save()
        config = _config(news_trigger_enabled=True, news_trigger_probability=0.0)
        for seed in range(10):
            turn = TurnFactory.create(chat=chat, bot=me)
            loaded = _loaded(turn, config)
            context = build_context(loaded, config=loaded.config, rng=random.Random(seed))
            assert context.headline == "Faiz kararı (https://own.example.org/rss)"

    def test_a_chats_length_mix_and_mention_chance_are_its_own(self) -> None:
        chat, (me, other) = crowd(2)
        say(chat, "BIST bugün nasıl?", bot=other)
        chat.settings_overrides = {
            "message_length_profile": {"short": 0, "medium": 0, "long": 1},
            "mention_probability": 1,
        }
        chat.save()
        config = _config(mention_probability=0.0)
        for seed in range(10):
            loaded = _loaded(TurnFactory.create(chat=chat, bot=me, kind=Turn.Kind.REPLY), config)
            context = build_context(loaded, config=loaded.config, rng=random.Random(seed))
            assert (context.length, context.mention) == ("long", other.username)

    def test_no_headline_when_news_is_off(self) -> None:
        chat, (me, _) = crowd(2)
        turn = TurnFactory.create(chat=chat, bot=me)
        context = _context(turn, config=_config(news_trigger_enabled=False), rng=random.Random(1))
        assert (context.headline, context.headline_id) == (None, None)
