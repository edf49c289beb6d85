from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.test import TestCase

from bots.models import Bot, Stance
from bots.schemas import Emotion, Persona, PersonaTone
from bots.tests.factories import BotFactory, HoldingFactory, MemoryFactory, StanceFactory
from chats.models import Chat, Message
from chats.tests.factories import ChatFactory, MessageFactory
from engine.clients.llm.base import estimate_prompt_tokens
from engine.runtime_settings import AbuseLimits
from engine.services import prompts
from engine.services.context import HistoryLine, TurnContext
from engine.tests.factories import TurnFactory

PERSONA: dict[str, Any] = {
    "tone": "veteran",
    "risk_profile": "low",
    "never_do": ["kaldıraç kullanmak", "kripto önermek"],
    "bio": "Emekli bankacı, 1994 krizini gördü.",
    "style": {"emojis": True, "length": "short"},
}
EMOTION: dict[str, Any] = {
    "tone": "cynical",
    "energy": "high",
    "signature_emoji": "🧐",
    "signature_phrases": ["Sabır kazandırır"],
    "anecdotes": ["2001'de her şeyimi kaybettim"],
}
AT = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)


def _bot(**overrides: Any) -> Bot:
    persona = {**PERSONA, **overrides.pop("persona", {})}
    return BotFactory.create(**{"name": "Ayşe", "persona": persona, "emotion": EMOTION, **overrides})


def _context(bot: Bot, chat: Chat, *, language: str = "tr", **fields: Any) -> TurnContext:
    values: dict[str, Any] = {
        "turn": TurnFactory.create(chat=chat, bot=bot),
        "chat": chat,
        "bot": bot,
        "persona": Persona.model_validate(bot.persona),
        "emotion": Emotion.model_validate(bot.emotion),
        "language": language,
        "history": [],
        "topic": "BIST",
        "length": "short",
        **fields,
    }
    return TurnContext(**values)


def _line(speaker: str, text: str, *, is_self: bool = False, is_ours: bool = False) -> HistoryLine:
    is_ours = is_ours or is_self
    return HistoryLine(1, speaker, text, is_bot=is_ours, is_self=is_self, created_at=AT, is_ours=is_ours)


class SystemPromptTests(TestCase):
    def test_turkish_and_english_system_prompts_differ_and_name_the_bot(self) -> None:
        bot, chat = _bot(), ChatFactory.create()
        turkish = prompts.system_prompt(_context(bot, chat, language="tr"))
        english = prompts.system_prompt(_context(bot, chat, language="en"))
        assert turkish != english
        assert "Sen Ayşe'sin." in turkish
        assert "You are Ayşe." in english
        assert "kâr garantisi verme" in turkish
        assert "never promise profits" in english

    def test_the_bot_stays_in_character_but_never_denies_being_a_bot_when_asked(self) -> None:
        bot, chat = _bot(), ChatFactory.create()
        turkish = prompts.system_prompt(_context(bot, chat, language="tr"))
        english = prompts.system_prompt(_context(bot, chat, language="en"))
        assert "kendiliğinden söyleme" in turkish
        assert "asla inkâr etme" in turkish
        assert "don't volunteer" in english
        assert "never deny it when someone sincerely asks" in english
        for prompt in (turkish, english):
            assert "asla söyleme" not in prompt
            assert "never say you are an AI" not in prompt

    def test_the_turkish_intro_follows_vowel_harmony(self) -> None:
        for name, suffix in [("Ayşe", "sin"), ("Burak", "sın"), ("Onur", "sun"), ("Gökhan", "sın"), ("Ümit", "sin")]:
            with self.subTest(name=name):
                bot = _bot(name=name)
                assert f"Sen {name}'{suffix}." in prompts.system_prompt(_context(bot, ChatFactory.create()))

    def test_the_system_prompt_describes_the_persona_tone(self) -> None:
        for language in ["tr", "en"]:
            with self.subTest(language=language):
                for tone in PersonaTone:
                    bot = _bot(persona={"tone": tone})
                    prompt = prompts.system_prompt(_context(bot, ChatFactory.create(), language=language))
                    assert prompts.TONES[language][tone] in prompt

    def test_never_do_bio_and_anecdotes_appear_only_with_the_full_persona(self) -> None:
        bot, chat = _bot(), ChatFactory.create()
        full = prompts.system_prompt(_context(bot, chat, full_persona=True))
        short = prompts.system_prompt(_context(bot, chat, full_persona=False))
        for text in ("kaldıraç kullanmak", "kripto önermek", "2001'de her şeyimi kaybettim", "Emekli bankacı"):
            assert text in full
            assert text not in short
        assert "Sabır kazandırır" in short

    def test_emoji_instructions_follow_the_persona_style(self) -> None:
        chat = ChatFactory.create()
        assert "🧐" in prompts.system_prompt(_context(_bot(), chat))
        plain = prompts.system_prompt(_context(_bot(persona={"style": {"emojis": False}}), chat))
        assert "Emoji kullanma." in plain
        assert "🧐" not in plain


class UserPromptTests(TestCase):
    def test_the_user_prompt_for_a_new_message_states_mode_topic_and_length(self) -> None:
        bot, chat = _bot(), ChatFactory.create()
        tr = prompts.user_prompt(_context(bot, chat, topic="Kripto", length="medium"))
        en = prompts.user_prompt(_context(bot, chat, language="en", topic="Kripto", length="long"))
        assert "Görevin: gruba bu konuda yeni bir mesaj yaz." in tr
        assert "Konu: Kripto" in tr
        assert "Uzunluk: 2-3 cümle." in tr
        assert "Your task: write a new message to the group about this topic." in en
        assert "Topic: Kripto" in en
        assert "Length: 4-5 sentences." in en
        assert "yanıt ver" not in tr

    def test_the_user_prompt_for_a_reply_names_the_target_and_quotes_it(self) -> None:
        bot, chat = _bot(), ChatFactory.create()
        member = MessageFactory.create(chat=chat, sender_name="Mehmet Yılmaz", text="THYAO 300 olur mu?")
        other_bot = BotFactory.create(name="Kemal")
        bot_message = MessageFactory.create(chat=chat, bot=other_bot, sender_name="", text="Dolar sakin.")
        tr = prompts.user_prompt(_context(bot, chat, target=member))
        en = prompts.user_prompt(_context(bot, chat, language="en", target=bot_message))
        assert "Görevin: üye «Mehmet Yılmaz» adlı kişinin şu mesajına yanıt ver: «THYAO 300 olur mu?»" in tr
        assert "Your task: reply to this message from Kemal: «Dolar sakin.»" in en
        assert "yeni bir mesaj" not in tr

    def test_the_user_prompt_lists_each_stance_with_its_polarity(self) -> None:
        bot, chat = _bot(), ChatFactory.create()
        stances = [
            StanceFactory.create(bot=bot, topic="BIST:THYAO", polarity=Stance.Polarity.BULLISH, stance="Turizm güçlü."),
            StanceFactory.create(bot=bot, topic="FX", polarity=Stance.Polarity.BEARISH, stance="TL değer kazanır."),
            StanceFactory.create(bot=bot, topic="Kripto", polarity=Stance.Polarity.NEUTRAL, stance="Emin değilim."),
        ]
        tr = prompts.user_prompt(_context(bot, chat, stances=stances))
        en = prompts.user_prompt(_context(bot, chat, language="en", stances=stances))
        assert "- BIST:THYAO: yükseliş bekliyorsun — Turizm güçlü." in tr
        assert "- FX: düşüş bekliyorsun — TL değer kazanır." in tr
        assert "- Kripto: kararsızsın — Emin değilim." in tr
        assert "- BIST:THYAO: you expect a rise — Turizm güçlü." in en
        assert "- FX: you expect a fall" in en
        assert "- Kripto: you are undecided" in en

    def test_the_user_prompt_lists_holdings_without_trailing_zeros(self) -> None:
        bot, chat = _bot(), ChatFactory.create()
        HoldingFactory.create(bot=bot, symbol="BIST:AKBNK", size=Decimal("150"), average_price=Decimal("42.5"))
        holdings = list(bot.holdings.all())  # from the DB, as build_context loads them: Decimal("150.000000")
        prompt = prompts.user_prompt(_context(bot, chat, holdings=holdings))
        assert "Portföyün (istersen bahsedebilirsin):\n- 150 BIST:AKBNK @ 42.5" in prompt

    def test_empty_sections_are_left_out(self) -> None:
        prompt = prompts.user_prompt(_context(_bot(), ChatFactory.create()))
        assert "Görüşlerin" not in prompt
        assert "Portföyün" not in prompt
        assert "Hatırladıkların" not in prompt
        assert "Sohbet şu an sessiz." in prompt

    def test_memories_own_statements_and_headline_appear(self) -> None:
        bot, chat = _bot(), ChatFactory.create()
        memory = MemoryFactory.create(bot=bot, content="Kızı üniversitede okuyor.")
        prompt = prompts.user_prompt(
            _context(bot, chat, memories=[memory], own_statements=["THYAO'ya güveniyorum"], headline="TCMB faizi sabit")
        )
        assert "- Kızı üniversitede okuyor." in prompt
        assert "- THYAO'ya güveniyorum" in prompt
        assert "Gündemdeki haber: «TCMB faizi sabit»" in prompt

    def test_the_user_prompt_names_the_symbol_asked_about_and_what_to_do_without_a_view(self) -> None:
        bot, chat = _bot(), ChatFactory.create()
        target = MessageFactory.create(chat=chat, sender_name="Ali", text="THYAO ne olur?")
        cases = [
            ("tr", "symbol", "Sorulan sembol: BIST:THYAO. Yanıtın bu sembol hakkında olsun", None),
            ("tr", "topic", "Sorulan sembol: BIST:THYAO.", "BIST:THYAO için ayrı bir görüşün yok; BIST hakkındaki"),
            ("tr", "none", "Sorulan sembol: BIST:THYAO.", "BIST:THYAO hakkında bir görüşün yok: bunu kendi üslubunla"),
            ("en", "topic", "Symbol asked about: BIST:THYAO.", "no view of your own on BIST:THYAO; relate it to your"),
            ("en", "none", "Symbol asked about: BIST:THYAO.", "You have no view on BIST:THYAO: say so in your own"),
        ]
        for language, view, asked, advice in cases:
            with self.subTest(language=language, view=view):
                context = _context(bot, chat, language=language, target=target, symbol="BIST:THYAO", view=view)
                prompt = prompts.user_prompt(context)
                assert asked in prompt
                assert advice is None or advice in prompt
                assert prompt.index("BIST:THYAO") > prompt.index("Konu: BIST" if language == "tr" else "Topic: BIST")
        plain = prompts.user_prompt(_context(bot, chat, target=target))
        assert "Sorulan sembol" not in plain
        # Without a symbol there is no symbol-specific advice (the general "answer what was asked" line stays).
        assert "hakkında bir görüşün yok" not in plain
        assert "için ayrı bir görüşün yok" not in plain

    def test_history_lines_label_speakers_and_the_bot_itself(self) -> None:
        history = [
            _line("Mehmet", "THYAO ne olur?"),
            _line("Ayşe", "Bence yükselir.", is_self=True),
            _line("Kemal", "Yok", is_ours=True),
        ]
        for language, you, member in [("tr", "sen", "üye"), ("en", "you", "member")]:
            with self.subTest(language=language):
                context = _context(_bot(), ChatFactory.create(), language=language, history=history)
                assert prompts.history_lines(context) == [
                    f"[10:15] {member} «Mehmet»: «THYAO ne olur?»",
                    f"[10:15] {you}: «Bence yükselir.»",
                    "[10:15] Kemal: «Yok»",
                ]
                prompt = prompts.user_prompt(context)
                assert f"[10:15] {you}: «Bence yükselir.»" in prompt
                assert prompt.index("Mehmet") < prompt.index("Kemal")


class PromptSizeTests(TestCase):
    """A turn's request stays within `abuse_limits.request_max_tokens`: old lines go first, long ones are cut."""

    def test_the_history_is_trimmed_newest_first_and_long_messages_cut(self) -> None:
        history = [_line(f"Üye {i}", f"m{i} " + "çok uzun bir mesaj " * 200) for i in range(20)]
        for request_max_tokens in (3000, 1500, 800):
            with self.subTest(request_max_tokens=request_max_tokens):
                abuse = AbuseLimits(request_max_tokens=request_max_tokens)
                context = _context(_bot(), ChatFactory.create(), history=history, abuse=abuse)
                chat = prompts.messages(context)
                assert estimate_prompt_tokens(chat) + prompts.max_tokens(context) <= request_max_tokens
                user = chat[1]["content"]
                kept = [i for i in range(20) if f"«m{i} " in user]
                assert kept == list(range(20 - len(kept), 20))  # the newest, in order
                assert all(len(line) < 700 for line in user.splitlines())
                assert user.count(prompts.CUT + "»") == len(kept)

    def test_a_prompt_that_fits_is_left_whole(self) -> None:
        history = [_line("Mehmet", "THYAO ne olur?"), _line("Ayşe", "Bence yükselir.", is_self=True)]
        context = _context(_bot(), ChatFactory.create(), history=history)
        assert prompts.messages(context)[1]["content"] == prompts.user_prompt(context)


class SamplingTests(TestCase):
    def test_temperature_stays_between_0_7_and_1_0(self) -> None:
        for tone in PersonaTone:
            for energy in ["low", "medium", "high"]:
                with self.subTest(tone=tone, energy=energy):
                    bot = BotFactory.create(persona={"tone": tone}, emotion={"energy": energy})
                    assert 0.7 <= prompts.temperature(_context(bot, ChatFactory.create())) <= 1.0

    def test_temperature_varies_by_persona(self) -> None:
        chat = ChatFactory.create()
        values = {
            prompts.temperature(_context(BotFactory.create(persona={"tone": tone}), chat)) for tone in PersonaTone
        }
        assert len(values) >= 3

    def test_max_tokens_grows_with_the_length_hint(self) -> None:
        bot, chat = _bot(), ChatFactory.create()
        short, medium, long = (
            prompts.max_tokens(_context(bot, chat, length=length)) for length in ("short", "medium", "long")
        )
        assert short < medium < long


class HintTests(TestCase):
    def test_hints_carry_stances_holdings_and_mode(self) -> None:
        bot, chat = _bot(), ChatFactory.create()
        stance = StanceFactory.create(bot=bot, topic="BIST:THYAO", polarity=Stance.Polarity.BEARISH, stance="Pahalı.")
        holding = HoldingFactory.create(bot=bot, symbol="BIST:AKBNK", size=Decimal("10"), average_price=Decimal("40"))
        target = MessageFactory.create(chat=chat, sender_name="Mehmet", text="Ne diyorsunuz?")
        hints = prompts.hints(
            _context(bot, chat, language="en", stances=[stance], holdings=[holding], target=target, topic="BIST")
        )
        assert hints.mode == "reply"
        assert (hints.reply_to_name, hints.reply_to_text) == ("Mehmet", "Ne diyorsunuz?")
        assert [tuple(s) for s in hints.stances] == [("BIST:THYAO", "bearish", "Pahalı.")]
        assert [(h.symbol, h.size, h.avg_price) for h in hints.holdings] == [
            ("BIST:AKBNK", Decimal("10"), Decimal("40"))
        ]
        assert (hints.language, hints.topic, hints.bot_name, hints.persona_tone) == ("en", "BIST", "Ayşe", "veteran")
        new = prompts.hints(_context(bot, chat))
        assert (new.mode, new.reply_to_name, new.reply_to_text, new.language) == ("new", None, None, "tr")

    def test_hints_carry_the_symbol_asked_about_and_the_bots_view_on_it(self) -> None:
        bot, chat = _bot(), ChatFactory.create()
        target = MessageFactory.create(chat=chat, sender_name="Ali", text="XAUUSD alınır mı?")
        hints = prompts.hints(_context(bot, chat, target=target, topic="FX", symbol="XAUUSD", view="none"))
        assert (hints.topic, hints.symbol, hints.view) == ("FX", "XAUUSD", "none")
        assert (prompts.hints(_context(bot, chat)).symbol, prompts.hints(_context(bot, chat)).view) == (None, None)


class MessagesTests(TestCase):
    def test_messages_are_a_system_then_a_user_message(self) -> None:
        context = _context(_bot(), ChatFactory.create())
        assert [m["role"] for m in prompts.messages(context)] == ["system", "user"]
        assert prompts.messages(context)[0]["content"] == prompts.system_prompt(context)

    def test_the_repair_message_lists_the_problems_in_the_chat_language(self) -> None:
        assert "kâr vaadi" in prompts.repair_message(["kâr vaadi"], "tr")["content"]
        assert prompts.repair_message(["x"], "tr")["content"].startswith("Mesajını yeniden yaz")
        assert prompts.repair_message(["x"], "en")["content"].startswith("Rewrite your message")


class SpeakerLabelTests(TestCase):
    def test_a_message_from_a_bot_is_labelled_with_the_bot_name(self) -> None:
        message: Message = MessageFactory.create(bot=BotFactory.create(name="Kemal"), sender_name="Piyasa Sohbet")
        assert message.speaker_label == "Kemal"


class RelationTests(TestCase):
    def _relation(self, polarity: Stance.Polarity | None, text: str, *, topic: str = "BIST") -> str | None:
        bot, chat = _bot(), ChatFactory.create()
        stances = [StanceFactory.create(bot=bot, topic="BIST", polarity=polarity, stance="x")] if polarity else []
        target = MessageFactory.create(chat=chat, sender_name="Mehmet", text=text)
        return prompts.hints(_context(bot, chat, stances=stances, target=target, topic=topic)).relation

    def test_a_reply_agrees_or_disagrees_by_stance_polarity_versus_the_targets(self) -> None:
        assert self._relation(Stance.Polarity.BULLISH, "Borsa bence yükselişte") == "agree"
        assert self._relation(Stance.Polarity.BULLISH, "Borsa bence zayıf, düşüş gelir") == "disagree"
        assert self._relation(Stance.Polarity.BEARISH, "Endeks güçlü görünüyor") == "disagree"

    def test_a_question_is_answered_and_an_undecided_bot_asks_back(self) -> None:
        assert self._relation(Stance.Polarity.BEARISH, "THYAO yükselir mi?") == "add"
        assert self._relation(None, "Endeks güçlü görünüyor") == "ask"
        assert self._relation(Stance.Polarity.BULLISH, "Bugün sakin") == "add"

    def test_a_new_message_has_no_relation_and_hints_carry_memories_and_history(self) -> None:
        bot, chat = _bot(), ChatFactory.create()
        memory = MemoryFactory.create(bot=bot, content="2001 krizini gördüm.")
        history = [_line("Mehmet", "THYAO ne olur?"), _line("Ayşe", "Bence yükselir.", is_self=True)]
        hints = prompts.hints(
            _context(bot, chat, memories=[memory], history=history, own_texts=["dun thyao icin temkinliydim"])
        )
        assert hints.relation is None
        assert hints.memories == ["2001 krizini gördüm."]
        assert hints.recent == ["THYAO ne olur?", "Bence yükselir."]
        assert hints.own == ["Bence yükselir.", "dun thyao icin temkinliydim"]  # its lines, then its stored messages

    def test_the_reply_prompt_asks_for_variety_the_relation_and_the_topic_asked(self) -> None:
        bot, chat = _bot(), ChatFactory.create()
        stance = StanceFactory.create(bot=bot, topic="BIST", polarity=Stance.Polarity.BULLISH, stance="x")
        target = MessageFactory.create(chat=chat, sender_name="Mehmet", text="BIST bence zayıf")
        tr = prompts.user_prompt(_context(bot, chat, stances=[stance], target=target))
        en = prompts.user_prompt(_context(bot, chat, language="en", stances=[stance], target=target))
        assert "Mesaja karşındakinin adıyla başlama" in tr
        assert "Ona kibarca katılmadığını kendi gerekçenle söyle." in tr
        assert "Sorulana cevap ver (BIST)" in tr
        assert "Do not open with the other person's name" in en
        assert "Disagree politely, with a reason of your own." in en
        new = prompts.user_prompt(_context(bot, chat, stances=[stance]))
        assert "adıyla başlama" not in new
