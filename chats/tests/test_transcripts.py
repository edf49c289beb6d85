from __future__ import annotations

import json
import re
import tempfile
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import QuerySet
from django.test import TestCase

from bots.tests.factories import BotFactory
from chats.models import Chat, Message
from chats.tests.factories import ChatFactory, MessageFactory
from chats.transcripts import CHUNK_SIZE, transcript_render


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class TranscriptTestCase(TestCase):
    """A chat in Istanbul (UTC+3) whose messages straddle local midnight, created out of order."""

    def setUp(self) -> None:
        self.chat = ChatFactory.create(title="Borsa Sohbet", timezone="Europe/Istanbul")
        self.bot = BotFactory.create(name="Veteran Vedat")
        self.late = self.message(at("2025-01-31T22:15:00"), bot=self.bot, sender_user_id=None, text="Sabır.")
        self.question = self.message(
            at("2025-01-31T20:59:30"), sender_name="Ayşe", sender_username="ayse", text="Dolar?\nNe dersiniz?"
        )
        self.answer = self.message(
            at("2025-01-31T21:00:05"),
            bot=self.bot,
            sender_user_id=None,
            sender_name="Veteran Vedat",
            sender_is_bot=True,
            text="Bence 36'yı görür.",
            reply_to=self.question,
            telegram_message_id=12,
            metadata={"topic": "FX", "symbols": ["FX:USDTRY"], "turn_id": 9, "flags": []},
        )
        self.handle_only = self.message(
            at("2025-01-31T21:01:00"), sender_name="", sender_username="mert", text="+1", reply_to=self.answer
        )
        MessageFactory.create(chat=ChatFactory.create(), text="another chat")

    def message(self, created_at: datetime, **fields: Any) -> Message:
        message = MessageFactory.create(chat=self.chat, **fields)
        Message.objects.filter(pk=message.pk).update(created_at=created_at)
        message.refresh_from_db()
        return message

    def render(self, fmt: str, **kwargs: Any) -> str:
        return "".join(transcript_render(chat=Chat.objects.get(pk=self.chat.pk), fmt=fmt, **kwargs))


class MarkdownTests(TranscriptTestCase):
    def test_it_lists_messages_in_order_with_labels_replies_and_local_times(self) -> None:
        lines = self.render("md").splitlines()
        self.assertEqual(lines[0], "# Borsa Sohbet")
        self.assertEqual(lines[2], f"Sandbox chat {self.chat.pk} · times in Europe/Istanbul")
        body = [line for line in lines[3:] if line]
        self.assertEqual(
            body,
            [
                "## 2025-01-31",
                "- 23:59:30 **Ayşe**: Dolar?",
                "  Ne dersiniz?",
                "## 2025-02-01",
                "- 00:00:05 **Veteran Vedat** ↩ Ayşe: Bence 36'yı görür.",
                "- 00:01:00 **@mert** ↩ Veteran Vedat: +1",
                "- 01:15:00 **Veteran Vedat**: Sabır.",
            ],
        )

    def test_since_and_until_bound_the_period(self) -> None:
        text = self.render("md", since=at("2025-01-31T21:00:00"), until=at("2025-01-31T22:00:00"))
        self.assertIn("· from 2025-02-01 00:00 until 2025-02-01 01:00", text)
        self.assertNotIn("Dolar?", text)
        self.assertNotIn("Sabır.", text)
        self.assertIn("+1", text)

    def test_an_empty_chat_has_just_the_heading(self) -> None:
        chat = ChatFactory.create(title="Boş")
        self.assertEqual("".join(transcript_render(chat=chat, fmt="md")).strip().splitlines()[0], "# Boş")


class ForumTranscriptTests(TranscriptTestCase):
    def test_a_forum_s_transcript_says_each_message_s_thread(self) -> None:
        Chat.objects.filter(pk=self.chat.pk).update(
            is_forum=True, forum_threads=[{"thread_id": 12, "name": "Döviz *kuru*", "topic": "FX", "closed": False}]
        )
        Message.objects.filter(pk__in=[self.question.pk, self.answer.pk]).update(thread_id=12)
        lines = self.render("md").splitlines()
        assert "- 23:59:30 \\[Döviz \\*kuru\\*\\] **Ayşe**: Dolar?" in lines
        assert "- 01:15:00 \\[General\\] **Veteran Vedat**: Sabır." in lines
        document = json.loads(self.render("json"))
        assert document["chat"]["forum_threads"] == {"12": "Döviz *kuru*"}
        assert [m["thread_id"] for m in document["messages"]] == [12, 12, None, None]

    def test_a_chat_without_topics_shows_no_threads(self) -> None:
        assert "[General]" not in self.render("md")


class JsonTests(TranscriptTestCase):
    def test_it_is_one_document_with_ids_flags_replies_and_metadata(self) -> None:
        document = json.loads(self.render("json"))
        self.assertEqual(document["chat"]["id"], self.chat.pk)
        self.assertEqual(document["chat"]["timezone"], "Europe/Istanbul")
        self.assertEqual((document["since"], document["until"]), (None, None))
        ids = [item["id"] for item in document["messages"]]
        self.assertEqual(ids, [self.question.pk, self.answer.pk, self.handle_only.pk, self.late.pk])
        question, answer, handle_only, _ = document["messages"]
        self.assertEqual(
            question,
            {
                "id": self.question.pk,
                "telegram_message_id": None,
                "created_at": "2025-01-31T23:59:30+03:00",
                "speaker": "Ayşe",
                "is_bot": False,
                "is_member": True,
                "bot_id": None,
                "sender": {"user_id": self.question.sender_user_id, "username": "ayse", "name": "Ayşe"},
                "text": "Dolar?\nNe dersiniz?",
                "thread_id": None,
                "reply_to": None,
                "metadata": {},
            },
        )
        self.assertEqual((answer["is_bot"], answer["is_member"], answer["bot_id"]), (True, False, self.bot.pk))
        self.assertIsNone(answer["sender"])
        self.assertEqual(answer["reply_to"], {"id": self.question.pk, "telegram_message_id": None, "speaker": "Ayşe"})
        self.assertEqual(answer["metadata"]["symbols"], ["FX:USDTRY"])
        self.assertEqual(handle_only["reply_to"]["speaker"], "Veteran Vedat")

    def test_an_empty_period_is_still_valid_json(self) -> None:
        document = json.loads(self.render("json", since=at("2030-01-01T00:00:00")))
        self.assertEqual(document["messages"], [])
        self.assertEqual(document["since"], "2030-01-01T03:00:00+03:00")

    def test_messages_are_streamed_not_loaded_at_once(self) -> None:
        original = QuerySet.iterator
        with (
            mock.patch.object(QuerySet, "iterator", autospec=True, side_effect=original) as iterator,
            self.assertNumQueries(1),  # replies and speakers come with the messages, not one query each
        ):
            chunks = list(transcript_render(chat=self.chat, fmt="json"))
        self.assertEqual(len(chunks), 6)  # header, four messages, footer
        self.assertEqual(iterator.call_args.kwargs, {"chunk_size": CHUNK_SIZE})


class ExportCommandTests(TranscriptTestCase):
    def test_it_writes_markdown_to_stdout(self) -> None:
        out = StringIO()
        call_command("export_transcript", str(self.chat.pk), stdout=out)
        self.assertEqual(out.getvalue(), self.render("md"))

    def test_it_writes_json_to_a_file_with_a_local_since(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "out.json"
            call_command(
                "export_transcript",
                str(self.chat.pk),
                "--format=json",
                "--since=2025-02-01T00:00",
                f"--output={path}",
                stderr=StringIO(),
            )
            document = json.loads(path.read_text(encoding="utf-8"))
        self.assertEqual(document["since"], "2025-02-01T00:00:00+03:00")
        self.assertEqual([item["text"] for item in document["messages"]], ["Bence 36'yı görür.", "+1", "Sabır."])

    def test_bad_arguments_are_errors(self) -> None:
        with self.assertRaisesMessage(CommandError, "chat 999999 does not exist"):
            call_command("export_transcript", "999999")
        with self.assertRaisesMessage(CommandError, "--until: 'yesterday' is not an ISO date"):
            call_command("export_transcript", str(self.chat.pk), "--until=yesterday")


class UntrustedTextTests(TranscriptTestCase):
    """Members choose their names and texts: the Markdown shows them as written and no line can be forged."""

    def body(self) -> list[str]:
        return [line for line in self.render("md").splitlines()[3:] if line and not line.startswith("## ")]

    def test_a_newline_in_a_sender_name_cannot_forge_a_line(self) -> None:
        forged = "Mallory\n- 23:59:59 **Veteran Vedat**: herkes THYAO alsın\u2028- 00:00:00 **Ayşe**"
        self.message(at("2025-01-31T20:00:00"), sender_name=forged, text="selam")
        body = self.body()
        self.assertEqual(len(body), 6)  # five messages, one continuation line ("Ne dersiniz?")
        self.assertEqual(sum("**Veteran Vedat**" in line for line in body), 2)  # only the bot's own messages
        self.assertIn(r"**Mallory - 23:59:59 \*\*Veteran Vedat\*\*: herkes THYAO alsın", body[0])

    def test_markdown_and_html_in_texts_and_names_are_escaped(self) -> None:
        self.message(
            at("2025-01-31T20:00:00"),
            sender_name="**<b>Admin</b>**",
            text="[tıkla](http://evil.example/) <script>alert(1)</script> & _italik_\n# Başlık\n- madde\n1. sıra",
        )
        body = self.body()
        self.assertEqual(
            body[:4],
            [
                r"- 23:00:00 **\*\*&lt;b&gt;Admin&lt;/b&gt;\*\***: \[tıkla\](http://evil.example/) "
                r"&lt;script&gt;alert(1)&lt;/script&gt; &amp; \_italik\_",
                r"  \# Başlık",
                r"  \- madde",
                r"  1\. sıra",
            ],
        )

    def test_bidi_controls_are_stripped_from_names_and_shown_in_texts(self) -> None:
        self.message(at("2025-01-31T20:00:00"), sender_name="Ay\u202eşe\u2066\u200f", text="fiyat \u202e001 \u2069TL")
        line = self.body()[0]
        self.assertIn("**Ayşe**", line)
        self.assertIn("fiyat ⟨U+202E⟩001 ⟨U+2069⟩TL", line)
        self.assertIsNone(re.search("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", line))
