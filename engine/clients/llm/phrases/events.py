"""The offline provider's takes on a fresh market event: by how the event meets the bot's own view, by persona.

A take keeps the bot's polarity (each bullish line has a rise word and no fall word, each bearish line the
reverse, neutral lines neither), so bulls and bears diverge on the same news; `{topic} {pp}` as in the views.
"""

from __future__ import annotations

# "confirms": the event moves the way the bot already expected; "against": the other way; "neutral": no view.
TAKES: dict[str, dict[str, list[str]]] = {
    "tr": {
        "confirms_bullish": [
            "bu haber beklediğim şeydi, {topic} {pp} yükseliş senaryom güçlendi",
            "son gelişme tam da düşündüğüm gibi, {topic} {pp} yükseliş hikâyesi sürüyor",
            "haber masada, {topic} {pp} ralli beklentim aynen duruyor",
        ],
        "confirms_bearish": [
            "bu haber uyardığım şeydi, {topic} {pp} düşüş senaryom netleşti",
            "son gelişme korktuğum gibi, {topic} {pp} satış baskısı artar",
            "haber geldi, {topic} {pp} düşüş beklentim aynen duruyor",
        ],
        "against_bullish": [
            "herkes panikte ama {topic} {pp} bu tepkiyi abartılı buluyorum, toparlanma gelir",
            "haber ilk anda ters gibi, yine de {topic} {pp} yükseliş görüşümden vazgeçmiyorum",
            "gürültü çok, {topic} {pp} orta vadede toparlanma bekliyorum",
        ],
        "against_bearish": [
            "sevinç erken, {topic} {pp} bu coşku geçince satış baskısı gelir",
            "haber ilk anda olumlu gibi, yine de {topic} {pp} düşüş görüşümden vazgeçmiyorum",
            "bu hava uzun sürmez, {topic} {pp} düşüş bekliyorum",
        ],
        "neutral": [
            "bu haberin {topic} {pp} etkisini görmek için biraz bekleyeceğim",
            "son gelişme {topic} {pp} net bir yön vermiyor bence",
            "haberin ilk tepkisine değil, {topic} {pp} kapanışa bakacağım",
        ],
    },
    "en": {
        "confirms_bullish": [
            "this news is what I expected, my upside case on {topic} just got stronger",
            "the latest news plays right into my bullish view on {topic}",
            "with this on the table I still see a rally in {topic}",
        ],
        "confirms_bearish": [
            "this news is what I warned about, my downside case on {topic} looks even more likely",
            "the latest news plays right into my bearish view on {topic}",
            "with this on the table I still see more downside in {topic}",
        ],
        "against_bullish": [
            "everyone is panicking, but I think the reaction in {topic} is overdone and the upside is intact",
            "the news looks bad at first, still I keep my bullish view on {topic}",
            "lots of noise, I still expect a rally in {topic} over the medium term",
        ],
        "against_bearish": [
            "the cheering is early, once it fades {topic} has downside",
            "the news looks good at first, still I keep my bearish view on {topic}",
            "this mood will not last, I still see downside in {topic}",
        ],
        "neutral": [
            "I will wait a bit to see what this news does to {topic}",
            "the latest news gives {topic} no clear direction to me",
            "I will watch the close on {topic}, not the first reaction",
        ],
    },
}
# The newbie asks what it means.
QUESTIONS: dict[str, list[str]] = {
    "tr": [
        "bu haber {topic} {pp} tam olarak ne anlama geliyor, biri açıklayabilir mi?",
        "ben yeniyim, böyle bir haber {topic} {pp} neyi değiştirir?",
        "bu karar {topic} {pp} ne demek, sizce nasıl okumalı?",
    ],
    "en": [
        "what does this news actually mean for {topic}, can someone explain?",
        "I am new here, what does news like this change for {topic}?",
        "how should I read this for {topic}?",
    ],
}
# The veteran recalls a past crisis: one of its anecdotes, or a generic memory when it has none that fits.
RECALLS: dict[str, list[str]] = {
    "tr": ["bu bana şunu hatırlattı: {story}", "benzerini yaşadım: {story}", "eskiden de gördük: {story}"],
    "en": ["this reminds me: {story}", "I have been through this before: {story}", "seen it before: {story}"],
}
GENERIC_RECALL: dict[str, list[str]] = {
    "tr": ["böyle haberleri çok gördüm, ilk gün verilen tepki çoğu zaman kalıcı olmaz"],
    "en": ["I have seen plenty of news like this, the first day's reaction rarely sticks"],
}
# How the bot's risk profile colours its take.
RISK: dict[str, dict[str, list[str]]] = {
    "tr": {
        "low": ["ben pozisyonumu küçük tutuyorum", "acele etmeden izliyorum"],
        "medium": ["planıma sadık kalıyorum", "ölçülü davranıyorum"],
        "high": ["bu oynaklık tam benlik", "böyle günler fırsat günleridir benim için"],
    },
    "en": {
        "low": ["I keep my position small", "I am watching without rushing"],
        "medium": ["I stick to my plan", "I keep it measured"],
        "high": ["this volatility is my kind of day", "days like this are opportunities to me"],
    },
}
