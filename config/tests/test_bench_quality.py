"""bench.quality's parts that do not need a run: options, the mid-morning zone, and filling docs/quality.md."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from django.test import SimpleTestCase

from bench.quality import DOC, RESULTS_HEADING, morning_zone, parse, subsection, write_results


class QualityBenchTests(SimpleTestCase):
    def test_quick_is_three_simulated_minutes_and_writes_nothing(self) -> None:
        quick = parse(["--quick"])
        self.assertEqual((quick.minutes, quick.questions, quick.write), (3.0, 2, False))
        full = parse([])
        self.assertEqual((full.minutes, full.scale, full.questions, full.write), (30.0, 10.0, 12, True))

    def test_bad_options_are_refused(self) -> None:
        for argv in (["--minutes", "0"], ["--scale", "80"], ["--llm", "gpt"]):
            with self.subTest(argv=argv), self.assertRaises(SystemExit):
                parse(argv)

    def test_the_chat_zone_is_mid_morning_now(self) -> None:
        local = dt.datetime.now(dt.UTC).astimezone(ZoneInfo(morning_zone()))
        self.assertEqual(local.hour, 10)

    def test_each_llms_results_replace_only_its_own_block(self) -> None:
        offline, fake = subsection("offline"), subsection("fake")
        with tempfile.TemporaryDirectory() as folder:
            doc = Path(folder) / "quality.md"
            doc.write_text(f"# Q\n\nintro\n\n{RESULTS_HEADING}\n\nNot run yet.\n\n## Later\n\nkept\n")
            write_results(f"{fake}\n\nfake figures\n", "fake", doc)
            write_results(f"{offline}\n\nold figures\n", "offline", doc)
            write_results(f"{offline}\n\nnew figures\n", "offline", doc)
            expected = f"{RESULTS_HEADING}\n\n{offline}\n\nnew figures\n\n{fake}\n\nfake figures\n\n## Later\n\nkept\n"
            self.assertEqual(doc.read_text(), f"# Q\n\nintro\n\n{expected}")

    def test_the_results_stay_in_the_order_of_the_llms_whatever_order_they_ran_in(self) -> None:
        offline, fake, realistic = subsection("offline"), subsection("fake"), subsection("realistic")
        with tempfile.TemporaryDirectory() as folder:
            doc = Path(folder) / "quality.md"
            doc.write_text(f"# Q\n\n{RESULTS_HEADING}\n\nNot run yet.\n")
            for llm in ("realistic", "fake", "offline", "realistic"):
                write_results(f"{subsection(llm)}\n\n{llm} figures\n", llm, doc)
            blocks = doc.read_text().split(f"{RESULTS_HEADING}\n\n")[1]
            expected = f"{offline}\n\noffline figures\n\n{fake}\n\nfake figures\n\n{realistic}\n\nrealistic figures\n"
            self.assertEqual(blocks, expected)

    def test_the_repo_doc_has_a_results_section_to_fill(self) -> None:
        self.assertIn(f"\n{RESULTS_HEADING}\n", DOC.read_text())
