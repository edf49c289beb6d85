"""Character cards: V1 and V2 JSON and PNG cards become valid persona drafts; broken files get a clear error."""

from __future__ import annotations

import base64
import json
import struct
import tempfile
import zlib
from io import StringIO
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import SimpleTestCase, TestCase

from accounts.roles import Role
from accounts.tests.factories import role_client
from bots.cards import CardError, card_draft, suggested_username
from bots.models import Bot
from bots.schemas import Emotion, Persona

CARD = {
    "name": "Tevfik Bey",
    "description": "{{char}} is a retired banker from İzmir who has seen every crisis since 1994.",
    "personality": "cynical, patient, experienced",
    "scenario": "A trading chat on a slow Friday.",
    "first_mes": "*adjusts his glasses* Gençler, 2001'i hatırlayan var mı? O zaman da herkes emindi.",
    "mes_example": "<START>\n{{user}}: Should I buy now?\n{{char}}: *sighs* Acele eden zarar eder.\n"
    "{{char}}: Piyasa sabırsızdan sabırlıya para aktarır.",
    "creator_notes": "Made for tests.",
    "system_prompt": "",
    "post_history_instructions": "",
    "alternate_greetings": ["Yine mi kriz? Ben görmüştüm."],
    "tags": ["finance", "veteran"],
    "creator": "piyasa tests",
    "character_version": "1.0",
    "extensions": {"talkativeness": "0.5"},
}


def v2(data: dict[str, Any]) -> bytes:
    return json.dumps({"spec": "chara_card_v2", "spec_version": "2.0", "data": data}).encode()


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(*chunks: bytes) -> bytes:
    """A 1×1 grey PNG with extra chunks before its image data."""
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    pixels = chunk(b"IDAT", zlib.compress(b"\x00\x80"))
    return b"\x89PNG\r\n\x1a\n" + header + b"".join(chunks) + pixels + chunk(b"IEND", b"")


def chara(card_json: bytes, keyword: bytes = b"chara") -> bytes:
    return chunk(b"tEXt", keyword + b"\x00" + base64.b64encode(card_json))


class CardDraftTest(SimpleTestCase):
    def test_a_v2_card_becomes_a_persona_draft(self) -> None:
        draft = card_draft(v2(CARD))
        assert (draft.name, draft.username, draft.spec) == ("Tevfik Bey", "tevfik_bey_bot", "chara_card_v2")
        assert draft.persona["tone"] == "veteran"
        assert draft.persona["bio"].startswith("Tevfik Bey is a retired banker from İzmir")
        assert "Personality: cynical, patient, experienced" in draft.persona["bio"]
        assert draft.emotion["tone"] == "cynical"
        assert draft.emotion["signature_phrases"] == [
            "Acele eden zarar eder.",
            "Piyasa sabırsızdan sabırlıya para aktarır.",
        ]
        assert draft.emotion["anecdotes"] == ["Gençler, 2001'i hatırlayan var mı? O zaman da herkes emindi."]
        assert draft.notes == ["scenario is not used by the persona", "creator_notes is not used by the persona"]
        Persona.model_validate(draft.persona)
        Emotion.model_validate(draft.emotion)

    def test_v1_v2_and_png_cards_give_the_same_draft(self) -> None:
        v1 = json.dumps(CARD).encode()
        expected = card_draft(v2(CARD)).bot_fields()
        for label, raw in [
            ("v1", v1),
            ("png v2", png(chunk(b"tEXt", b"Software\x00tests"), chara(v2(CARD)))),
            ("png v1", png(chara(v1))),
            ("png ccv3", png(chara(json.dumps({"spec": "chara_card_v3", "data": CARD}).encode(), b"ccv3"))),
        ]:
            with self.subTest(label):
                assert card_draft(raw).bot_fields() == expected

    def test_a_card_without_example_lines_takes_phrases_from_its_greetings(self) -> None:
        draft = card_draft(v2({"name": "Ayşe", "first_mes": "Merhaba! Bugün BIST ne yapar?", "mes_example": ""}))
        assert draft.emotion["signature_phrases"] == ["Merhaba!"]
        assert (draft.persona["tone"], draft.emotion["tone"]) == ("professional", "calm")

    def test_long_texts_are_clipped_to_what_the_persona_holds(self) -> None:
        draft = card_draft(v2({"name": "N" * 150, "description": "word " * 1000}))
        assert len(draft.name) == 100
        assert len(draft.persona["bio"]) <= 2000
        assert draft.persona["bio"].endswith("…")

    def test_nul_characters_are_dropped(self) -> None:
        assert card_draft(v2({"name": "A\u0000li", "description": "x\u0000y"})).bot_fields()["name"] == "Ali"

    def test_suggested_usernames_are_ascii_handles(self) -> None:
        for name, expected in [("Şükrü Öztürk", "sukru_ozturk_bot"), ("Işıl", "isil_bot"), ("!!!", "card_bot")]:
            with self.subTest(name):
                assert suggested_username(name) == expected


class BadCardTest(SimpleTestCase):
    def test_a_broken_file_gets_a_clear_error(self) -> None:
        good = png(chara(v2(CARD)))
        corrupt = bytearray(good)
        corrupt[40] ^= 0xFF  # inside the tEXt chunk after IHDR
        cases = [
            (b"GIF89a...", "card: neither a PNG nor valid JSON"),
            (good[:30], "PNG: chunk 'IHDR' at byte 8 runs past the end of the file"),
            (bytes(corrupt), "is corrupt (CRC mismatch)"),
            (png(chunk(b"tEXt", b"Comment\x00hello")), "PNG: no character card in it"),
            (png(chunk(b"tEXt", b"chara\x00not base64!")), "PNG: the 'chara' chunk is not base64"),
            (png(chunk(b"tEXt", b"chara\x00" + base64.b64encode(b"{nope"))), "card: neither a PNG nor valid JSON"),
            (b"[1, 2]", "card: must be a JSON object"),
            (v2({"description": "no name"}), "data.name: Field required"),
            (json.dumps({"name": 5}).encode(), "card.name: Input should be a valid string"),
            (v2({"name": "   "}), "name: the card's name is empty"),
        ]
        for raw, expected in cases:
            with self.subTest(expected), self.assertRaises(CardError) as caught:
                card_draft(raw)
            assert expected in str(caught.exception), str(caught.exception)


class CardSurfacesTest(TestCase):
    """The command and the API: a draft to review first, a bot only when asked."""

    def setUp(self) -> None:
        self.folder = Path(self.enterContext(tempfile.TemporaryDirectory()))

    def test_the_command_prints_a_draft_and_saves_only_when_asked(self) -> None:
        path = self.folder / "tevfik.png"
        path.write_bytes(png(chara(v2(CARD))))
        out = StringIO()
        call_command("import_card", str(path), stdout=out)
        assert '"tone": "veteran"' in out.getvalue()
        assert not Bot.objects.exists()
        call_command("import_card", str(path), "--save", "--username", "tevfik", stdout=StringIO())
        bot = Bot.objects.get()
        assert (bot.name, bot.username, bot.persona["tone"]) == ("Tevfik Bey", "tevfik", "veteran")
        assert not bot.has_token

    def test_the_command_names_a_broken_card(self) -> None:
        path = self.folder / "bad.png"
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00")
        with self.assertRaisesMessage(CommandError, "PNG: truncated chunk header at byte 8"):
            call_command("import_card", str(path), stdout=StringIO())

    def test_the_api_drafts_then_creates_for_an_operator_only(self) -> None:
        operator, _, _ = role_client(Role.OPERATOR)
        response = operator.post("/api/bots/cards/", {"file": upload("t.json", v2(CARD))}, format="multipart")
        self.assertEqual(response.status_code, 200, response.content)
        assert (response.json()["persona"]["tone"], response.json()["bot"]) == ("veteran", None)
        assert not Bot.objects.exists()

        card_png = upload("t.png", png(chara(v2(CARD))))
        response = operator.post("/api/bots/cards/", {"file": card_png, "save_bot": True}, format="multipart")
        self.assertEqual(response.status_code, 200, response.content)
        assert Bot.objects.get(pk=response.json()["bot"]).username == "tevfik_bey_bot"

        again = operator.post("/api/bots/cards/", {"file": upload("t.json", v2(CARD)), "save_bot": True}, "multipart")
        self.assertEqual(again.status_code, 400)
        assert again.json()["errors"] == ["username: already used by another bot"]

        viewer, _, _ = role_client(Role.VIEWER)
        refused = viewer.post("/api/bots/cards/", {"file": upload("t.json", v2(CARD))}, format="multipart")
        self.assertEqual(refused.status_code, 403)

    def test_the_api_answers_a_broken_card_with_its_error(self) -> None:
        operator, _, _ = role_client(Role.OPERATOR)
        response = operator.post("/api/bots/cards/", {"file": upload("x.png", png())}, format="multipart")
        self.assertEqual(response.status_code, 400)
        assert response.json()["errors"][0].startswith("PNG: no character card in it")


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)
