"""What a message adds: reasons, levels, holdings, memories."""

from __future__ import annotations

from engine.clients.llm.phrases.base import Table

# Reasons are built from parts, so the same few words are not repeated message after message.
REASON_PARTS: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "tr": {
        "bullish": (
            [
                "hacim",
                "alıcı ilgisi",
                "momentum",
                "yabancı girişi",
                "risk iştahı",
                "talep",
                "kurumsal ilgi",
                "fon akışı",
                "alıcı tarafı",
                "piyasa derinliği",
                "yatırımcı güveni",
                "küçük yatırımcı ilgisi",
                "emir defteri",
                "sepet alımları",
            ],
            [
                "artıyor",
                "güçleniyor",
                "iyileşiyor",
                "canlanıyor",
                "destek veriyor",
                "toparlanıyor",
                "ısınıyor",
                "tazeleniyor",
            ],
        ),
        "bearish": (
            [
                "hacim",
                "alıcı ilgisi",
                "momentum",
                "risk iştahı",
                "talep",
                "yabancı ilgisi",
                "likidite",
                "fon akışı",
                "piyasa derinliği",
                "yatırımcı güveni",
                "küçük yatırımcı ilgisi",
                "emir defteri",
                "alıcı desteği",
            ],
            ["azalıyor", "zayıflıyor", "geriliyor", "kayboluyor", "sönümleniyor", "çekiliyor", "soğuyor", "eriyor"],
        ),
        "neutral": (
            [
                "veri akışı",
                "haber akışı",
                "fiyat hareketi",
                "hacim tarafı",
                "beklenti anketi",
                "piyasa nabzı",
                "opsiyon piyasası",
                "yabancı pozisyonu",
                "emir defteri",
                "kurum raporları",
                "sektör haberleri",
            ],
            ["netleşmedi", "bir şey söylemiyor", "kararsız", "belirsiz", "yön vermiyor", "dengede", "bulanık"],
        ),
    },
    "en": {
        "bullish": (
            [
                "volume",
                "buyer interest",
                "momentum",
                "foreign demand",
                "risk appetite",
                "institutional interest",
                "retail interest",
                "fund flow",
                "market breadth",
                "the bid",
            ],
            ["is picking up", "is improving", "keeps building", "is coming back", "looks supportive", "is firming"],
        ),
        "bearish": (
            [
                "volume",
                "buyer interest",
                "momentum",
                "risk appetite",
                "liquidity",
                "demand",
                "retail interest",
                "fund flow",
                "market breadth",
                "the bid",
            ],
            ["is fading", "is drying up", "keeps shrinking", "is slipping away", "is thinning out", "is cooling"],
        ),
        "neutral": (
            [
                "the data flow",
                "the news flow",
                "price action",
                "the volume picture",
                "positioning",
                "the options market",
                "analyst chatter",
                "the order flow",
            ],
            ["isn't clear yet", "says little", "is mixed", "gives no signal", "is all over the place", "is balanced"],
        ),
    },
}

ADVERBS: dict[str, list[str]] = {
    "tr": [
        "son günlerde",
        "bu hafta",
        "son seanslarda",
        "yavaş yavaş",
        "belirgin şekilde",
        "dünden beri",
        "öğleden sonra",
        "açılıştan beri",
        "{n} gündür",
        "{n} seanstır",
        "{n} haftadır",
        "",
        "",
    ],
    "en": [
        "lately",
        "this week",
        "over the last sessions",
        "slowly",
        "clearly",
        "for {n} days now",
        "for {n} sessions",
        "since the open",
        "since yesterday",
        "this afternoon",
        "",
        "",
    ],
}

# Reasons that only fit one of the chat's default topics.
TOPIC_REASONS: dict[str, dict[str, dict[str, list[str]]]] = {
    "tr": {
        "BIST": {
            "bullish": [
                "bilanço dönemi beklentiden iyi geçiyor",
                "bankalar endeksi sırtlıyor",
                "sanayi hisselerinde canlanma var",
                "temettü takvimi ilgiyi artırıyor",
            ],
            "bearish": [
                "bilanço sezonu zayıf geçiyor",
                "bankalarda satış baskısı sürüyor",
                "sanayi hisselerinde marjlar eriyor",
                "halka arzlar likiditeyi emiyor",
            ],
            "neutral": [
                "bilanço sezonu karışık geçiyor",
                "endeks sektör sektör ayrışıyor",
                "bankalar ile sanayi ters yönlerde",
                "temettü sezonu öncesi herkes bekliyor",
            ],
        },
        "FX": {
            "bullish": ["kurda yukarı baskı sürüyor", "rezerv tarafı beni iyimser yapmıyor ama kur yukarı eğilimli"],
            "bearish": ["TL tarafında carry ilgisi kuru aşağı çekiyor", "kurda zayıf bir seyir var"],
            "neutral": ["kur kontrollü gidiyor", "TCMB adımlarını izliyorum"],
        },
        "Kripto": {
            "bullish": ["ETF girişleri güçlü", "zincir üstü veriler olumlu"],
            "bearish": ["ETF tarafında çıkışlar var", "kaldıraçlı pozisyonlar olumsuz bir tablo çiziyor"],
            "neutral": ["fonlama oranları nötr", "kripto tarafı küresel likiditeyi bekliyor"],
        },
        "Makro": {
            "bullish": ["enflasyonda iyileşme güçleniyor", "büyüme verileri olumlu"],
            "bearish": ["enflasyon yapışkan ve büyüme zayıf", "sıkı para politikası talebi zayıflatıyor"],
            "neutral": ["faiz kararı öncesi herkes bekliyor", "veriler iki yöne de okunabilir"],
        },
    },
    "en": {},
}

# A level near the bot's own average price on the symbol (never a price far from what it holds).
LEVELS: Table = {
    "tr": {
        "bullish": [
            "{level} üstünde kaldıkça yön yukarı",
            "{level} desteği güçlü duruyor",
            "{level} üzerindeki kapanışlar olumlu",
            "{level} üstü kalıcı olursa yükseliş hızlanır",
            "{level} seviyesinden toparlanma geldi",
        ],
        "bearish": [
            "{level} altında kapanış gelirse aşağı hızlanır",
            "{level} direnci aşılmadıkça zayıf",
            "{level} altı bence olumsuz",
            "{level} kırılırsa düşüş derinleşir",
            "{level} üstünde tutunamazsa aşağı açılır",
        ],
        "neutral": [
            "{level} civarı kritik eşik",
            "{level} seviyesini izliyorum",
            "{level} bölgesi iki tarafa da açık",
            "{level} kırılmadan karar vermem",
            "gözüm {level} seviyesinde",
        ],
    },
    "en": {
        "bullish": ["as long as it holds {level} the bias is higher", "{level} support looks strong"],
        "bearish": ["a close under {level} opens the way lower", "below {level} it looks weak"],
        "neutral": ["{level} is the line I'm watching", "{level} is the pivot for me"],
    },
}

HOLDINGS: dict[str, list[str]] = {
    "tr": [
        "portföyde {size} {symbol} var, maliyetim {price}",
        "{symbol} tarafında {size} adetle duruyorum, ortalama {price}",
        "{symbol} pozisyonum duruyor, maliyet {price} civarı",
        "elimde {price} ortalamayla {size} {symbol} var",
        "ben {size} {symbol} ile {price} maliyetle bekliyorum",
    ],
    "en": [
        "I've got {size} {symbol} in the portfolio at {price} average",
        "still holding {size} {symbol}, cost basis around {price}",
        "my {symbol} position is still there, average {price}",
        "I sit on {size} {symbol} from {price}",
    ],
}

MEMORY_INTROS: dict[str, list[str]] = {
    "tr": [
        "aklıma geldi",
        "kendi tecrübemden söyleyeyim",
        "şunu hiç unutmam",
        "bir anım var bununla ilgili",
        "hatırlatayım",
        "benden bir hatıra",
        "",
        "",
    ],
    "en": ["reminds me of something", "from my own experience", "I never forget this", ""],
}
