"""Generation with the output defences: the turn's own bio, chat handles and link setting reach the checks."""

from __future__ import annotations

from prometheus_client import REGISTRY

from bots.models import Bot
from engine.models import Turn
from engine.services.generation import generate_turn
from engine.services.settings import setting_set
from engine.tests.test_generation import FakeLlmTestCase, groq, planned_turn

BIO = "Emekli bir bankacı, 2001 krizinde birikiminin yarısını kaybetti ve o günden beri kaldıraç kullanmıyor."


def problems(reason: str, action: str) -> float:
    return REGISTRY.get_sample_value("piyasa_llm_output_problems_total", {"reason": reason, "action": action}) or 0.0


class GenerationExposureTests(FakeLlmTestCase):
    def test_a_reply_reciting_the_bots_bio_is_skipped_without_a_repair_call(self) -> None:
        turn = planned_turn()
        Bot.objects.filter(pk=turn.bot_id).update(persona={"bio": BIO})
        self.fake_llm.queue_replies(
            "Kendimi anlatayım: emekli bir bankacı, 2001 krizinde birikiminin yarısını kaybetti."
        )
        before = problems("leak", "skipped")
        assert generate_turn(turn_id=turn.pk, llm=groq(self.fake_llm)) == "skipped"
        turn.refresh_from_db()
        assert (turn.llm_calls, problems("leak", "skipped") - before) == (1, 1.0)

    def test_a_strangers_handle_and_a_link_are_stripped_and_the_chats_bots_kept(self) -> None:
        turn = planned_turn()
        own = Bot.objects.get(pk=turn.bot_id).username
        self.fake_llm.queue_replies(f"@{own} ve @randomuser bakın: t.me/pumpgrubu, THYAO'yu izliyorum.")
        before = problems("link", "cleaned"), problems("mention", "cleaned")
        assert generate_turn(turn_id=turn.pk, llm=groq(self.fake_llm)) == "ready"
        turn.refresh_from_db()
        assert turn.text == f"@{own} ve bakın, THYAO'yu izliyorum."
        assert (problems("link", "cleaned") - before[0], problems("mention", "cleaned") - before[1]) == (1.0, 1.0)

    def test_links_stay_when_the_runtime_setting_allows_them(self) -> None:
        setting_set(key="output_links_allowed", value=True)
        turn = planned_turn()
        self.fake_llm.queue_replies("KAP'ta açıklama var: https://www.kap.org.tr/tr/Bildirim/1234567")
        assert generate_turn(turn_id=turn.pk, llm=groq(self.fake_llm)) == "ready"
        turn.refresh_from_db()
        assert turn.status == Turn.Status.READY
        assert turn.text.endswith("https://www.kap.org.tr/tr/Bildirim/1234567")
