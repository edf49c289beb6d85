"""News headlines: feeds fetched from a local HTTP server, stored once, and picked fresh per topic and language."""

from __future__ import annotations

import hashlib
import importlib
import random
import socket
import sys
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import feedparser
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone
from rq import cron

from accounts.roles import Role
from accounts.tests.factories import role_client
from chats.tests.factories import ChatFactory
from engine import jobs
from engine.models import NewsItem, Setting
from engine.runtime_settings import parse_setting
from engine.services import news, setting_set

TURKISH_RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>Piyasa Haber</title>
    <link>https://haber.example.com.tr/</link>
    <description>Ekonomi ve piyasa haberleri</description>
    <language>tr</language>
    <item>
      <title>Merkez Bankası faiz kararını açıkladı: politika faizi yüzde 45'te sabit</title>
      <link>https://haber.example.com.tr/ekonomi/merkez-bankasi-faiz-karari</link>
      <guid isPermaLink="false">haber-1001</guid>
      <pubDate>{one_hour_ago}</pubDate>
      <description><![CDATA[<p>Para Politikası Kurulu <b>politika faizini</b> değiştirmedi.</p>]]></description>
    </item>
    <item>
      <title>Bitcoin 100 bin doları aştı</title>
      <link>https://haber.example.com.tr/kripto/bitcoin-100-bin</link>
      <guid isPermaLink="false">haber-1002</guid>
      <pubDate>{two_hours_ago}</pubDate>
      <description>Kripto piyasasında yükseliş sürüyor.</description>
    </item>
    <item>
      <title>BIST 100 endeksi rekor kırdı, THYAO ve AKBNK öne çıktı</title>
      <link>https://haber.example.com.tr/borsa/bist-100-rekor</link>
      <guid isPermaLink="false">haber-1003</guid>
      <pubDate>{three_hours_ago}</pubDate>
    </item>
    <item>
      <title>Altın fiyatları güne yatay başladı</title>
      <link>https://haber.example.com.tr/emtia/altin-yatay</link>
    </item>
    <item>
      <title>Geçen haftanın enflasyon verisi açıklandı</title>
      <guid isPermaLink="false">haber-0900</guid>
      <pubDate>{five_days_ago}</pubDate>
    </item>
  </channel>
</rss>
"""

ENGLISH_ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title>Markets Wire</title>
  <id>urn:uuid:5b1f0c6e-8a53-4c1e-9d55-0c2b7f0e9a11</id>
  <updated>{one_hour_ago}</updated>
  <entry>
    <title>Fed holds interest rates steady as inflation cools</title>
    <id>tag:wire.example.com,2025:fed-holds</id>
    <link href="https://wire.example.com/markets/fed-holds"/>
    <updated>{one_hour_ago}</updated>
    <summary>Policy makers kept the target range unchanged for a third meeting.</summary>
  </entry>
  <entry>
    <title>Ethereum ETF inflows hit a record as crypto rallies</title>
    <id>tag:wire.example.com,2025:eth-etf</id>
    <link href="https://wire.example.com/markets/eth-etf"/>
    <updated>{two_hours_ago}</updated>
  </entry>
  <entry>
    <title>Turkish lira weakens past 40 per dollar</title>
    <id>tag:wire.example.com,2025:lira</id>
    <link href="https://wire.example.com/markets/lira"/>
    <updated>{three_hours_ago}</updated>
  </entry>
</feed>
"""

HOURS = {"one_hour_ago": 1, "two_hours_ago": 2, "three_hours_ago": 3, "five_days_ago": 120}


def turkish_rss() -> bytes:
    now = timezone.now()
    dates = {name: format_datetime(now - timedelta(hours=hours), usegmt=True) for name, hours in HOURS.items()}
    return TURKISH_RSS.format(**dates).encode()


def english_atom() -> bytes:
    now = timezone.now()
    dates = {name: (now - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ") for name, hours in HOURS.items()}
    return ENGLISH_ATOM.format(**dates).encode()


@dataclass
class Route:
    """A canned response of the feed server."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    delay_s: float = 0.0
    location: str = ""
    send_length: bool = True


class FeedServer:
    """Real HTTP on 127.0.0.1 at a random port, serving canned routes and recording request headers."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str]] = []  # (path, User-Agent)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, self.headers.get("User-Agent", "")))
                route = server.routes.get(self.path, Route(b"not found", status=404, content_type="text/plain"))
                time.sleep(route.delay_s)
                try:
                    self.send_response(route.status)
                    self.send_header("Content-Type", route.content_type)
                    if route.location:
                        self.send_header("Location", route.location)
                    if route.send_length:
                        self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout and size tests)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def reset(self) -> None:
        self.routes = {"/tr.xml": Route(turkish_rss()), "/en.atom": Route(english_atom(), content_type="text/xml")}
        self.requests = []


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_item(title: str, *, language: str = "tr", topics: tuple[str, ...] = (), age_hours: float = 1.0) -> NewsItem:
    return NewsItem.objects.create(
        source="https://feeds.example.com/rss",
        uid=hashlib.sha256(title.encode()).hexdigest(),
        title=title,
        language=language,
        topics=list(topics),
        published_at=timezone.now() - timedelta(hours=age_hours),
    )


class FeedServerTestCase(TestCase):
    """Tests with the local feed server at self.server, its routes reset to one Turkish RSS and one English Atom."""

    server: FeedServer

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.server = FeedServer()  # started once for the class
        cls.server.thread.start()
        cls.addClassCleanup(cls.server.httpd.server_close)
        cls.addClassCleanup(cls.server.httpd.shutdown)

    def setUp(self) -> None:
        super().setUp()
        self.server.reset()

    def fetch(self, *paths: str, timeout_s: float = 5.0) -> news.FetchResult:
        return news.news_fetch(urls=[self.server.url(path) for path in paths], timeout_s=timeout_s)


class NewsFetchTests(FeedServerTestCase):
    def test_it_stores_rss_and_atom_items_with_topics_and_language(self) -> None:
        result = self.fetch("/tr.xml", "/en.atom")
        self.assertEqual((result.fetched, result.stored, result.failed), (7, 7, {}))
        items = {item.title: item for item in NewsItem.objects.all()}
        faiz = items["Merkez Bankası faiz kararını açıkladı: politika faizi yüzde 45'te sabit"]
        self.assertIn("Makro", faiz.topics)
        self.assertEqual((faiz.language, faiz.source), ("tr", self.server.url("/tr.xml")))
        self.assertEqual(faiz.summary, "Para Politikası Kurulu politika faizini değiştirmedi.")
        self.assertEqual(faiz.link, "https://haber.example.com.tr/ekonomi/merkez-bankasi-faiz-karari")
        self.assertIn("Kripto", items["Bitcoin 100 bin doları aştı"].topics)
        bist = items["BIST 100 endeksi rekor kırdı, THYAO ve AKBNK öne çıktı"].topics
        self.assertLessEqual({"BIST", "THYAO", "AKBNK"}, set(bist))
        self.assertIn("Makro", items["Fed holds interest rates steady as inflation cools"].topics)
        self.assertEqual(items["Ethereum ETF inflows hit a record as crypto rallies"].topics[0], "Kripto")
        self.assertIn("FX", items["Turkish lira weakens past 40 per dollar"].topics)
        self.assertEqual({items[title].language for title in items if "lira" in title or "Fed" in title}, {"en"})

    def test_it_dates_entries_from_the_feed_and_undated_ones_at_fetch_time(self) -> None:
        before = timezone.now()
        self.fetch("/tr.xml")
        faiz = NewsItem.objects.get(title__startswith="Merkez Bankası")
        self.assertAlmostEqual((before - faiz.published_at).total_seconds(), 3600, delta=5)
        undated = NewsItem.objects.get(title="Altın fiyatları güne yatay başladı")
        self.assertGreaterEqual(undated.published_at, before.replace(microsecond=0))

    def test_it_skips_entries_older_than_the_retention(self) -> None:
        self.fetch("/tr.xml")
        self.assertFalse(NewsItem.objects.filter(title__contains="enflasyon verisi").exists())

    def test_it_stores_no_duplicates_on_a_second_fetch(self) -> None:
        self.fetch("/tr.xml", "/en.atom")
        again = self.fetch("/tr.xml", "/en.atom")
        self.assertEqual((again.fetched, again.stored), (7, 0))
        self.assertEqual(NewsItem.objects.count(), 7)

    def test_it_stores_an_item_once_when_two_feeds_carry_it(self) -> None:
        self.server.routes["/copy.xml"] = Route(turkish_rss())
        result = self.fetch("/tr.xml", "/copy.xml")
        self.assertEqual((result.fetched, result.stored), (8, 4))

    def test_it_reports_a_500_and_a_malformed_feed_and_still_stores_the_good_one(self) -> None:
        self.server.routes["/down.xml"] = Route(b"oops", status=500)
        self.server.routes["/page.html"] = Route(b"<html><body>Yok</body></html>", content_type="text/html")
        with self.assertLogs("engine.services.news", "WARNING") as logs:
            result = self.fetch("/down.xml", "/page.html", "/tr.xml")
        self.assertEqual(result.failed[self.server.url("/down.xml")], "HTTP 500")
        self.assertIn("not an RSS/Atom feed", result.failed[self.server.url("/page.html")])
        self.assertEqual(result.stored, 4)
        self.assertEqual(len(logs.records), 2)

    def test_it_reports_a_timeout_and_an_unreachable_port_without_raising(self) -> None:
        self.server.routes["/slow.xml"] = Route(turkish_rss(), delay_s=1.5)
        unreachable = f"http://127.0.0.1:{unused_port()}/rss"
        with self.assertLogs("engine.services.news", "WARNING"):
            result = news.news_fetch(urls=[self.server.url("/slow.xml"), unreachable], timeout_s=0.3)
        self.assertIn("Timeout", result.failed[self.server.url("/slow.xml")])
        self.assertIn("ConnectError", result.failed[unreachable])
        self.assertEqual(result.stored, 0)

    def test_it_reports_an_unexpected_error_in_one_feed_without_raising(self) -> None:
        real_parse = feedparser.parse

        def parse(content: bytes) -> object:
            if b"<feed" in content:
                raise RuntimeError("parser bug")
            return real_parse(content)

        with (
            mock.patch("engine.services.news.feedparser.parse", side_effect=parse),
            self.assertLogs("engine.services.news", "WARNING"),
        ):
            result = self.fetch("/en.atom", "/tr.xml")
        self.assertEqual(result.failed, {self.server.url("/en.atom"): "unexpected RuntimeError: parser bug"})
        self.assertEqual(result.stored, 4)

    def test_it_refuses_a_feed_larger_than_the_limit(self) -> None:
        self.server.routes["/huge.xml"] = Route(b"<rss>" + b" " * (news.MAX_FEED_BYTES + 10), send_length=False)
        with self.assertLogs("engine.services.news", "WARNING"):
            result = self.fetch("/huge.xml")
        self.assertIn("larger than", result.failed[self.server.url("/huge.xml")])

    def test_it_follows_redirects_and_sends_a_user_agent(self) -> None:
        self.server.routes["/old"] = Route(status=301, location=self.server.url("/tr.xml"))
        self.assertEqual(self.fetch("/old").stored, 4)
        self.assertEqual(self.server.requests, [("/old", news.USER_AGENT), ("/tr.xml", news.USER_AGENT)])

    def test_it_gives_feedparser_bytes_never_a_url(self) -> None:
        with mock.patch("engine.services.news.feedparser.parse", wraps=feedparser.parse) as parse:
            self.fetch("/tr.xml", "/en.atom")
        self.assertEqual([type(call.args[0]) for call in parse.call_args_list], [bytes, bytes])


# Internal addresses in the forms an SSRF uses; none is ever connected to (refused before the connect).
INTERNAL_URLS = (
    "http://127.0.0.1:{port}/tr.xml",
    "http://0x7f000001:{port}/tr.xml",
    "http://2130706433:{port}/tr.xml",
    "http://[::1]:{port}/tr.xml",
    "http://[::ffff:127.0.0.1]:{port}/tr.xml",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/rss",
    "http://192.168.1.1/rss",
    "http://0.0.0.0:{port}/tr.xml",
    "http://224.0.0.1/rss",
    "http://[fd00::1]/rss",
    "http://localhost:{port}/tr.xml",
)


def fake_getaddrinfo(address: str) -> Any:
    """socket.getaddrinfo answering every name with `address` (a DNS answer the test chooses)."""

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))]

    return getaddrinfo


class FeedAddressTests(FeedServerTestCase):
    """Feeds are fetched from public addresses only, checked at connect time, after every redirect too."""

    def port(self) -> int:
        return int(self.server.httpd.server_address[1])

    def test_it_refuses_internal_addresses_in_every_form(self) -> None:
        with override_settings(OUTBOUND_ALLOWED_ADDRESSES=()), self.assertLogs("engine.services.news", "WARNING"):
            urls = [url.format(port=self.port()) for url in INTERNAL_URLS]
            result = news.news_fetch(urls=urls, timeout_s=2)
        for url in urls:
            with self.subTest(url):
                self.assertIn("only public addresses are fetched", result.failed[url])
        self.assertEqual((result.stored, self.server.requests), (0, []))

    def test_a_redirect_to_an_internal_address_is_refused(self) -> None:
        targets = ("http://127.0.0.2:{port}/tr.xml", "http://[::1]:{port}/tr.xml", "http://169.254.169.254/")
        for target in targets:
            with self.subTest(target), self.assertLogs("engine.services.news", "WARNING"):
                self.server.requests = []
                self.server.routes["/go"] = Route(status=302, location=target.format(port=self.port()))
                result = self.fetch("/go")
                self.assertIn("only public addresses are fetched", result.failed[self.server.url("/go")])
                self.assertEqual([path for path, _ in self.server.requests], ["/go"])
        self.assertEqual(NewsItem.objects.count(), 0)

    def test_a_name_is_resolved_and_refused_when_it_points_inside(self) -> None:
        dns = mock.patch("config.security.socket.getaddrinfo", fake_getaddrinfo("10.20.30.40"))
        with dns, self.assertLogs("engine.services.news", "WARNING"):
            result = news.news_fetch(urls=["http://feeds.example.com/rss"], timeout_s=2)
        self.assertIn("10.20.30.40 is a private address", result.failed["http://feeds.example.com/rss"])

    def test_it_connects_to_the_address_it_checked_never_resolving_twice(self) -> None:
        # DNS rebinding: a second lookup could answer 127.0.0.2 after the first answered an allowed address.
        getaddrinfo = mock.Mock(side_effect=fake_getaddrinfo("127.0.0.1"))
        with mock.patch("config.security.socket.getaddrinfo", getaddrinfo):
            result = news.news_fetch(urls=[f"http://feeds.example.com:{self.port()}/tr.xml"], timeout_s=2)
        looked_up = [call.args[0] for call in getaddrinfo.call_args_list]
        self.assertEqual(result.stored, 4)
        self.assertEqual(looked_up.count("feeds.example.com"), 1)  # then the connect is to 127.0.0.1 itself
        self.assertEqual(set(looked_up), {"feeds.example.com", "127.0.0.1"})

    def test_it_stops_after_the_redirect_limit(self) -> None:
        for hop in range(news.MAX_REDIRECTS + 1):
            self.server.routes[f"/hop{hop}"] = Route(status=302, location=self.server.url(f"/hop{hop + 1}"))
        with self.assertLogs("engine.services.news", "WARNING"):
            result = self.fetch("/hop0")
        self.assertIn("TooManyRedirects", result.failed[self.server.url("/hop0")])


@override_settings(OUTBOUND_ALLOWED_ADDRESSES=())
class FeedUrlSettingTests(TestCase):
    """The settings API refuses feed URLs on internal hosts, saying why."""

    def test_the_settings_api_refuses_internal_feed_urls_with_the_reason(self) -> None:
        api, _, _ = role_client(Role.ADMIN)
        cases = {
            "http://127.0.0.1:6379/": "127.0.0.1 is a loopback address",
            "http://0x7f000001:6379/": "127.0.0.1 is a loopback address",
            "http://[::1]:8000/": "::1 is a loopback address",
            "http://[::ffff:127.0.0.1]/": "127.0.0.1 is a loopback address",
            "http://169.254.169.254/latest/meta-data/": "169.254.169.254 is a link-local address",
            "http://10.1.2.3/rss": "10.1.2.3 is a private address",
            "http://localhost:9090/": "localhost is a local name",
        }
        for url, reason in cases.items():
            with self.subTest(url):
                response = api.patch("/api/settings/", {"news_feed_urls": [url]}, format="json")
                self.assertEqual(response.status_code, 400, response.content)
                message = str(response.json())
                self.assertIn(reason, message)
                self.assertIn("public addresses only", message)
        self.assertFalse(Setting.objects.filter(key="news_feed_urls").exists())

    def test_the_dashboard_forms_validation_gives_the_same_reason(self) -> None:
        # dashboard/forms_settings.py cleans every setting with parse_setting.
        with self.assertRaisesMessage(ValidationError, "169.254.169.254 is a link-local address"):
            parse_setting("news_feed_urls", ["http://169.254.169.254/latest/meta-data/"])

    def test_a_public_feed_url_is_accepted(self) -> None:
        api, _, _ = role_client(Role.ADMIN)
        response = api.patch("/api/settings/", {"news_feed_urls": ["https://feeds.example.com/rss"]}, format="json")
        self.assertEqual(response.status_code, 200, response.content)


class LanguageAndTopicTests(TestCase):
    def test_it_trusts_a_declared_language(self) -> None:
        self.assertEqual(news.language_guess("Merkez Bankası faizi sabit tuttu", "en-US"), "en")

    def test_it_guesses_the_language_from_the_text(self) -> None:
        self.assertEqual(news.language_guess("Merkez Bankası faizi sabit tuttu"), "tr")
        self.assertEqual(news.language_guess("The central bank held its rate for a third meeting"), "en")

    def test_it_matches_keywords_at_word_starts_only(self) -> None:
        self.assertEqual(news.topics_in("Whether the corporate outlook improves"), [])
        self.assertEqual(news.topics_in("MERKEZ BANKASI FAİZİ İNDİRDİ"), ["Makro"])


class HeadlineForTests(TestCase):
    def test_it_returns_a_fresh_matching_headline_in_the_chats_language(self) -> None:
        make_item("Bitcoin 100 bin doları aştı", topics=("Kripto",))
        make_item("Bitcoin tops $100,000", language="en", topics=("Kripto",))
        make_item("Dolar/TL güne yükselişle başladı", topics=("FX",))
        rng = random.Random(1)
        for language, title in (("tr", "Bitcoin 100 bin doları aştı"), ("en", "Bitcoin tops $100,000")):
            item = news.headline_for(topic="Kripto", language=language, rng=rng)
            self.assertEqual(item.title if item else None, title)

    def test_it_falls_back_to_the_other_language(self) -> None:
        make_item("Fed holds rates", language="en", topics=("Makro",))
        item = news.headline_for(topic="Makro", language="tr", rng=random.Random(1))
        self.assertEqual(item.title if item else None, "Fed holds rates")

    def test_it_never_returns_a_headline_older_than_max_age(self) -> None:
        make_item("Bitcoin 100 bin doları aştı", topics=("Kripto",), age_hours=13)
        self.assertIsNone(news.headline_for(topic="Kripto", language="tr", rng=random.Random(1), max_age_hours=12))
        self.assertIsNotNone(news.headline_for(topic="Kripto", language="tr", rng=random.Random(1), max_age_hours=14))

    def test_it_returns_none_when_nothing_matches(self) -> None:
        make_item("Dolar/TL güne yükselişle başladı", topics=("FX",))
        self.assertIsNone(news.headline_for(topic="Kripto", language="tr", rng=random.Random(1)))

    def test_it_matches_the_topic_or_symbol_in_the_title(self) -> None:
        gold = make_item("ALTIN fiyatları yatay seyrediyor")
        thy = make_item("THY yolcu rekoru kırdı", topics=("THYAO",))
        self.assertEqual(news.headline_for(topic="Altın", language="tr", rng=random.Random(1)), gold)
        self.assertEqual(news.headline_for(topic="BIST:THYAO", language="tr", rng=random.Random(1)), thy)

    def test_it_honours_exclude(self) -> None:
        first = make_item("Bitcoin 100 bin doları aştı", topics=("Kripto",))
        second = make_item("Ethereum yüzde 8 yükseldi", topics=("Kripto",), age_hours=2)
        picked = news.headline_for(topic="Kripto", language="tr", rng=random.Random(1), exclude={first.pk})
        self.assertEqual(picked, second)
        every = {first.pk, second.pk}
        self.assertIsNone(news.headline_for(topic="Kripto", language="tr", rng=random.Random(1), exclude=every))

    def test_it_picks_different_headlines_among_the_freshest_few(self) -> None:
        items = [make_item(f"Kripto haberi {n}", topics=("Kripto",), age_hours=n + 1) for n in range(news.FRESHEST + 1)]
        picks = set()
        for seed in range(40):
            picked = news.headline_for(topic="Kripto", language="tr", rng=random.Random(seed))
            assert picked is not None
            picks.add(picked.pk)
        self.assertGreater(len(picks), 2)
        self.assertNotIn(items[-1].pk, picks)  # the sixth freshest is never offered

    def test_it_reads_in_one_query(self) -> None:
        for n in range(4):
            make_item(f"Bitcoin haberi {n}", topics=("Kripto",))
        with self.assertNumQueries(1):
            news.headline_for(topic="Kripto", language="tr", rng=random.Random(1), exclude={1, 2})


class NewsPruneTests(TestCase):
    def test_it_deletes_headlines_older_than_the_horizon(self) -> None:
        old = make_item("Eski haber", age_hours=80)
        recent = make_item("Yeni haber", age_hours=5)
        self.assertEqual(news.news_prune(older_than_hours=72), 1)
        self.assertEqual(list(NewsItem.objects.values_list("pk", flat=True)), [recent.pk])
        self.assertFalse(NewsItem.objects.filter(pk=old.pk).exists())


class FetchNewsJobTests(FeedServerTestCase):
    def test_it_fetches_the_configured_feeds_and_prunes(self) -> None:
        setting_set(key="news_feed_urls", value=[self.server.url("/tr.xml"), self.server.url("/en.atom")])
        make_item("Eski haber", age_hours=100)
        self.assertEqual(jobs.fetch_news(), {"fetched": 7, "stored": 7, "failed": 0, "pruned": 1})

    def test_it_skips_when_news_is_disabled(self) -> None:
        setting_set(key="news_feed_urls", value=[self.server.url("/tr.xml")])
        setting_set(key="news_trigger_enabled", value=False)
        self.assertEqual(jobs.fetch_news(), {"news_trigger_enabled": False})
        self.assertEqual((self.server.requests, NewsItem.objects.count()), ([], 0))

    def test_it_fetches_the_feeds_of_chats_that_use_headlines_of_their_own(self) -> None:
        setting_set(key="news_trigger_enabled", value=False)
        ChatFactory.create(
            settings_overrides={"news_trigger_enabled": True, "news_feed_urls": [self.server.url("/tr.xml")]}
        )
        ChatFactory.create(settings_overrides={"news_feed_urls": [self.server.url("/en.atom")]})  # headlines off
        ChatFactory.create(
            is_enabled=False,
            settings_overrides={"news_trigger_enabled": True, "news_feed_urls": [self.server.url("/en.atom")]},
        )
        self.assertEqual(jobs.fetch_news()["failed"], 0)
        self.assertEqual({path for path, _ in self.server.requests}, {"/tr.xml"})


class CronRegistrationTests(TestCase):
    def test_it_registers_fetch_news_every_15_minutes_on_the_low_queue(self) -> None:
        saved = cron._job_data_registry[:]
        cron._job_data_registry.clear()
        sys.modules.pop("config.cron", None)
        try:
            importlib.import_module("config.cron")
            entries = [entry for entry in cron._job_data_registry if entry["func"] is jobs.fetch_news]
        finally:
            cron._job_data_registry[:] = saved
        self.assertEqual(len(entries), 1)
        self.assertEqual((entries[0]["queue_name"], entries[0]["interval"], entries[0]["ttl"]), ("low", 900, 900))


class NewsItemAdminTests(TestCase):
    def setUp(self) -> None:
        user = get_user_model().objects.create_superuser("admin", "admin@example.com", "password")
        self.client.force_login(user)

    def test_it_lists_headlines_read_only(self) -> None:
        item = make_item("Bitcoin 100 bin doları aştı", topics=("Kripto",))
        response = self.client.get(reverse("admin:engine_newsitem_changelist"))
        self.assertContains(response, "Bitcoin 100 bin doları aştı")
        self.assertEqual(self.client.get(reverse("admin:engine_newsitem_add")).status_code, 403)
        change = self.client.get(reverse("admin:engine_newsitem_change", args=[item.pk]))
        self.assertNotContains(change, 'name="title"')
