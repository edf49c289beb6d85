"""Phrase tables of the offline provider, in Turkish and English.

Rules the tables keep (tests enforce them): only stance, reason and emoji entries carry a polarity,
everything else is polarity-neutral; nothing promises profit or tells anyone to buy or sell.
"""

from __future__ import annotations

Table = dict[str, dict[str, list[str]]]

# Words that give a text its direction; also used to read the polarity of the message replied to.
POLARITY_MARKERS: dict[str, list[str]] = {
    "bullish": ["yukarı", "yükseliş", "güçl", "pozitif", "upside", "strong", "bullish", "higher"],
    "bearish": ["aşağı", "düşüş", "zayıf", "negatif", "downside", "weak", "bearish", "lower"],
}

DEFAULT_TOPIC = {"tr": "piyasa", "en": "the market"}

STANCES: Table = {
    "tr": {
        "bullish": [
            "{topic} için yukarı yönlü düşünüyorum",
            "{topic} tarafında yükseliş potansiyeli görüyorum",
            "{topic} bana güçlü görünüyor",
            "{topic} konusunda pozitifim",
        ],
        "bearish": [
            "{topic} için aşağı yönlü risk görüyorum",
            "{topic} bana zayıf görünüyor",
            "{topic} tarafında düşüş ihtimali yüksek bence",
            "{topic} konusunda negatifim",
        ],
        "neutral": [
            "{topic} için net bir yön göremiyorum",
            "{topic} tarafında beklemedeyim",
            "{topic} şu an yatay gidiyor gibi",
            "{topic} konusunda kararsızım",
        ],
    },
    "en": {
        "bullish": [
            "I see upside in {topic}",
            "{topic} looks strong to me",
            "I'm bullish on {topic}",
            "{topic} has room to move higher",
        ],
        "bearish": [
            "I see downside risk in {topic}",
            "{topic} looks weak to me",
            "I'm bearish on {topic}",
            "{topic} could move lower from here",
        ],
        "neutral": [
            "no clear direction on {topic} for me",
            "I'm on the sidelines with {topic}",
            "{topic} looks range-bound",
            "undecided on {topic} right now",
        ],
    },
}

REASONS: Table = {
    "tr": {
        "bullish": [
            "hacim artışı destekliyor",
            "momentum güçleniyor",
            "yabancı ilgisi artıyor",
            "bilanço beklentileri iyi",
        ],
        "bearish": ["faiz tarafı baskı yapıyor", "hacim zayıflıyor", "momentum kayboluyor", "risk iştahı azalıyor"],
        "neutral": ["veri akışını bekliyorum", "karışık sinyaller var", "piyasa yön arıyor", "haber akışı netleşmedi"],
    },
    "en": {
        "bullish": [
            "volume is picking up",
            "momentum is building",
            "foreign inflows are improving",
            "earnings expectations look solid",
        ],
        "bearish": ["rates are a headwind", "volume is drying up", "momentum is fading", "risk appetite is shrinking"],
        "neutral": [
            "waiting for the data",
            "signals are mixed",
            "the market is searching for direction",
            "the news flow isn't clear yet",
        ],
    },
}

OPENERS: Table = {
    "tr": {
        "street": ["Kanka", "Valla", "Abi bak", "Hocam"],
        "professional": ["Açıkçası", "Rakamlara bakınca", "Benim okumam şu"],
        "academic": ["Makro çerçeveden bakarsak", "Teorik olarak", "Verilere dayanarak söylersem"],
        "veteran": ["Bu piyasada çok dalga gördüm", "Yıllardır buradayım", "Eskiler bilir"],
        "conservative": ["Temkinli konuşayım", "Ben riski önce düşünürüm", "Acele etmeden söyleyeyim"],
        "newbie": ["Ben daha yeniyim", "Yanlışım varsa düzeltin", "Acemi sorusu olacak belki"],
        "technical": ["Grafiğe bakınca", "Teknik tarafta", "Günlük grafikte"],
    },
    "en": {
        "street": ["Bro", "Ngl", "Honestly man", "Yo"],
        "professional": ["Frankly", "Looking at the numbers", "My read is this"],
        "academic": ["From a macro perspective", "Theoretically", "Based on the data"],
        "veteran": ["I've seen many cycles", "Been in this market for years", "Old-timers know this"],
        "conservative": ["Let me be careful here", "I think about risk first", "No rush"],
        "newbie": ["I'm still new here", "Correct me if I'm wrong", "Maybe a beginner take"],
        "technical": ["Looking at the chart", "On the technical side", "On the daily chart"],
    },
}

CLOSERS: Table = {
    "tr": {
        "street": ["ytd tabii", "bakarız artık", "neyse, takipteyim"],
        "professional": ["veriye göre güncellerim", "yatırım tavsiyesi değil"],
        "academic": ["varsayımlar değişirse tablo da değişir", "kesinlik yok, olasılıklar var"],
        "veteran": ["sabır bu işin yarısı", "gençler hep acele ediyor"],
        "conservative": ["sermayeyi korumak önce gelir", "pozisyonu küçük tutuyorum"],
        "newbie": ["öğreniyorum daha", "siz daha iyi bilirsiniz"],
        "technical": ["hacim teyidi lazım", "seviyeleri izliyorum"],
    },
    "en": {
        "street": ["nfa obviously", "we'll see", "anyway, watching it"],
        "professional": ["I'll update with the data", "not investment advice"],
        "academic": ["if the assumptions change, so does the picture", "no certainties, only probabilities"],
        "veteran": ["patience is half the game", "the young ones always rush"],
        "conservative": ["protecting capital comes first", "keeping my position small"],
        "newbie": ["still learning", "you all know better than me"],
        "technical": ["needs volume confirmation", "watching the levels"],
    },
}

EMOTIONS: Table = {
    "tr": {
        "calm": ["sakin kalmak lazım", "panik yok, planım belli"],
        "enthusiastic": ["bu aralar çok heyecanlıyım", "tempo harika"],
        "anxious": ["açıkçası biraz tedirginim", "gece uykum kaçıyor bazen"],
        "cynical": ["tabii burada herkes her şeyi biliyor", "her hafta yeni bir hikaye"],
        "optimistic": ["her dalgalanma bir öğrenme fırsatı", "sabredene fırsat çıkıyor"],
        "grumpy": ["yine aynı tartışma", "bu gürültüden sıkıldım"],
        "playful": ["bakalım kim haklı çıkacak", "patlamış mısırlar hazır"],
    },
    "en": {
        "calm": ["no need to panic", "staying calm, the plan is set"],
        "enthusiastic": ["loving the energy lately", "this pace is great"],
        "anxious": ["honestly a bit nervous", "this keeps me up at night"],
        "cynical": ["sure, everyone here is an expert", "every week a new story"],
        "optimistic": ["every swing is something to learn from", "patience brings chances"],
        "grumpy": ["same debate again", "tired of all this noise"],
        "playful": ["let's see who's right", "popcorn is ready"],
    },
}

HOLDINGS: dict[str, list[str]] = {
    "tr": [
        "portföyde {size} {symbol} var, maliyetim {price}",
        "{symbol} tarafında {size} adetle duruyorum, ortalama {price}",
        "{symbol} pozisyonum duruyor, maliyet {price} civarı",
    ],
    "en": [
        "I've got {size} {symbol} in the portfolio at {price} average",
        "still holding {size} {symbol}, cost basis around {price}",
        "my {symbol} position is still there, average {price}",
    ],
}

REPLIES: Table = {
    "tr": {
        "agree": ["{name}, katılıyorum", "{name} haklısın", "Aynen {name}"],
        "disagree": [
            "{name}, bu sefer farklı düşünüyorum",
            "{name}, pek katılamıyorum",
            "Saygı duyarım {name}, bakışım farklı",
        ],
        "neutral": ["{name}, güzel nokta", "{name}, mantıklı", "{name}, ben şöyle bakıyorum"],
    },
    "en": {
        "agree": ["{name}, agreed", "Fair take {name}", "{name}, you're right"],
        "disagree": [
            "{name}, I see it differently",
            "{name}, not sure I agree",
            "With respect {name}, my view differs",
        ],
        "neutral": ["{name}, fair point", "{name}, makes sense", "{name}, here's how I see it"],
    },
}

QUESTIONS: dict[str, list[str]] = {
    "tr": [
        "siz {topic} için ne düşünüyorsunuz?",
        "{topic} tarafında gözden kaçırdığım bir şey var mı?",
        "bu hafta {topic} için kritik veri hangisi sizce?",
    ],
    "en": [
        "what do you all think about {topic}?",
        "am I missing something on {topic}?",
        "which data point matters most for {topic} this week?",
    ],
}

EMOJIS: dict[str, list[str]] = {
    "bullish": ["🚀", "📈", "💪"],
    "bearish": ["📉", "😬", "🧐"],
    "neutral": ["🤔", "👀", "☕"],
}
