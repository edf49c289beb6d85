"""Phrase tables of the offline provider, in Turkish and English, and the cheap readings made from them.

Rules the tables keep (tests enforce them): only stance, reason, level and emoji entries carry a polarity,
everything else is polarity-neutral; nothing promises profit or tells anyone to buy or sell; no entry addresses
anyone by name (the provider does that, rarely). Templates start lower case (the provider capitalises a sentence's
first letter only, so names and tickers are never lowercased) and take `{topic}` (a ticker or topic as written in
chat) without Turkish case suffixes: postpositions (`{pp}`: için, tarafında…) keep them grammatical.
"""

from __future__ import annotations

from typing import Literal

Table = dict[str, dict[str, list[str]]]
Side = Literal["bullish", "bearish", "neutral"]

# Word starts that give a text its direction; also used to read the polarity of the message replied to.
POLARITY_MARKERS: dict[str, list[str]] = {
    "bullish": [
        "yukarı",
        "yüksel",
        "güçl",
        "pozitif",
        "iyimser",
        "toparlan",
        "olumlu",
        "upside",
        "strong",
        "bullish",
        "higher",
        "optimistic",
        "rally",
    ],
    "bearish": [
        "aşağı",
        "düşüş",
        "düşen",
        "düşer",
        "düşecek",
        "zayıf",
        "negatif",
        "kötümser",
        "olumsuz",
        "gerile",
        "downside",
        "weak",
        "bearish",
        "lower",
        "pessimistic",
        "decline",
    ],
}

DEFAULT_TOPIC = {"tr": "piyasa", "en": "the market"}
PREPOSITIONS = {
    "tr": ["için", "tarafında", "konusunda", "cephesinde", "özelinde", "açısından", "hakkında"],
    "en": ["on", "for", "regarding"],
}

STANCES: Table = {
    "tr": {
        "bullish": [
            "{topic} {pp} yukarı yönlü düşünüyorum",
            "{topic} {pp} yükseliş ihtimalini daha ağır görüyorum",
            "{topic} bana güçlü görünüyor",
            "{topic} {pp} pozitifim",
            "bence {topic} için yön yukarı",
            "{topic} {pp} iyimser taraftayım",
            "benim okumamla {topic} yükselişe hazırlanıyor",
            "{topic} {pp} toparlanmanın süreceğini düşünüyorum",
            "şu an {topic} için resim olumlu",
            "{topic} {pp} yukarı senaryoyu daha olası buluyorum",
            "orta vadede {topic} için yükseliş bekliyorum",
            "{topic} fiyatlamasında yukarı potansiyel var bence",
            "kendi hesabımda {topic} için olumlu bir sonuç çıkıyor",
            "gördüğüm kadarıyla {topic} güçlenmeye devam ediyor",
            "{topic} yükselen bir trendin içinde bence",
            "{topic} {pp} iyimserim, alıcılar geri geliyor",
        ],
        "bearish": [
            "{topic} {pp} aşağı yönlü risk görüyorum",
            "{topic} bana zayıf görünüyor",
            "{topic} {pp} düşüş ihtimali ağır basıyor bence",
            "{topic} {pp} negatifim",
            "bence {topic} için yön aşağı",
            "{topic} {pp} kötümser taraftayım",
            "benim okumamla {topic} bir düşüşe hazırlanıyor",
            "{topic} {pp} zayıflığın süreceğini düşünüyorum",
            "şu an {topic} için resim olumsuz",
            "{topic} {pp} aşağı senaryoyu daha olası buluyorum",
            "orta vadede {topic} için düşüş bekliyorum",
            "{topic} fiyatlamasında aşağı yönlü risk var bence",
            "kendi hesabımda {topic} için olumsuz bir sonuç çıkıyor",
            "gördüğüm kadarıyla {topic} zayıflamaya devam ediyor",
            "{topic} düşen bir trendin içinde bence",
            "{topic} {pp} temkinliyim, alıcılar zayıf",
        ],
        "neutral": [
            "{topic} {pp} net bir yön göremiyorum",
            "{topic} {pp} beklemedeyim",
            "{topic} şu an yatay gidiyor gibi",
            "{topic} {pp} kararsızım",
            "bence {topic} için henüz erken, yön belli değil",
            "{topic} {pp} bekle-gör modundayım",
            "benim okumamla {topic} bir bant içinde sıkışmış",
            "{topic} {pp} iki ihtimali de açık tutuyorum",
            "şu an {topic} için resim karışık",
            "{topic} {pp} acele edecek bir durum görmüyorum",
            "orta vadede {topic} için taraf tutmak zor",
            "{topic} fiyatlaması bence dengede",
            "kendi hesabımda {topic} için belirgin bir yön çıkmıyor",
            "gördüğüm kadarıyla {topic} yön arayışında",
            "{topic} bir karar aşamasında bence",
            "{topic} {pp} tarafsız kalmayı seçiyorum",
        ],
    },
    "en": {
        "bullish": [
            "I see upside in {topic}",
            "{topic} looks strong to me",
            "I'm bullish {pp} {topic}",
            "{topic} has room to move higher",
            "my read is that {topic} keeps grinding higher",
            "I'm leaning optimistic {pp} {topic}",
            "the path of least resistance for {topic} looks higher",
            "{topic} is holding up strong",
            "to me {topic} is setting up for a rally",
            "I'd rather be bullish than cute {pp} {topic}",
            "the bigger picture {pp} {topic} still points higher",
            "{topic} keeps showing strong demand",
            "on balance I see more upside than risk in {topic}",
            "{topic} feels like it wants to go higher",
        ],
        "bearish": [
            "I see downside risk in {topic}",
            "{topic} looks weak to me",
            "I'm bearish {pp} {topic}",
            "{topic} could move lower from here",
            "my read is that {topic} keeps drifting lower",
            "I'm leaning pessimistic {pp} {topic}",
            "the path of least resistance for {topic} looks lower",
            "{topic} is looking weak under the surface",
            "to me {topic} is setting up for a decline",
            "I'd rather be careful and bearish {pp} {topic}",
            "the bigger picture {pp} {topic} still points lower",
            "{topic} keeps showing weak demand",
            "on balance I see more downside than hope in {topic}",
            "{topic} feels like it wants to go lower",
        ],
        "neutral": [
            "no clear direction {pp} {topic} for me",
            "I'm on the sidelines with {topic}",
            "{topic} looks range-bound",
            "undecided {pp} {topic} right now",
            "my read is that {topic} is stuck in a range",
            "I'm keeping both scenarios open {pp} {topic}",
            "the picture {pp} {topic} is mixed",
            "{topic} hasn't picked a side yet",
            "to me {topic} is still making up its mind",
            "I'd rather wait than guess {pp} {topic}",
            "nothing {pp} {topic} convinces me either way",
            "{topic} is in wait-and-see mode for me",
            "on balance {topic} looks like a coin flip",
            "{topic} feels directionless this week",
        ],
    },
}

# When the bot has no view on what it is asked about: it says so in character, or relates it to what it knows.
NO_VIEW: dict[str, list[str]] = {
    "tr": [
        "{topic} {pp} sağlam bir görüşüm yok",
        "{topic} {pp} fikrim pek oluşmadı",
        "{topic} {pp} az şey biliyorum",
        "{topic} {pp} yorumu başkalarına bırakırım",
        "{topic} {pp} bilgim sınırlı",
        "{topic} {pp} pek kafa yormadım",
        "{topic} {pp} elimde bir analiz yok",
        "{topic} {pp} konuşursam uydurmuş olurum",
        "{topic} {pp} bir kanaatim yok henüz",
        "{topic} {pp} hâkim değilim",
        "{topic} benim yakından izlediğim bir şey değil",
        "{topic} radarımda değil",
        "{topic} benim alanım değil",
        "ben {topic} {pp} ahkâm kesmeyeyim",
        "şahsen {topic} ile hiç ilgilenmedim",
        "{topic} mevzusunda size yardımcı olamam",
        "{topic} {pp} iddialı bir lafım yok",
        "{topic} {pp} kulağıma çalınanlar kadarını biliyorum",
        "{topic} {pp} bir pozisyonum da görüşüm de yok",
        "{topic} {pp} veri toplamadan konuşmam",
        "{topic} {pp} benden iyi bilen çoktur",
        "{topic} {pp} bugüne kadar hiç çalışmadım",
        "itiraf edeyim, {topic} hiç bakmadığım bir köşe",
        "{topic} ekranımda bile yok",
        "{topic} {pp} fikir üretecek kadar bakmadım",
        "{topic} {pp} yorum yapsam kulaktan dolma olur",
    ],
    "en": [
        "I don't have a solid view {pp} {topic}",
        "{topic} isn't something I follow closely",
        "I don't track {topic} enough to comment",
        "{topic} is off my radar",
        "nothing useful to say {pp} {topic} from me",
        "{topic} isn't my field, so I won't pretend",
        "I'd be guessing {pp} {topic}",
        "I haven't done the work {pp} {topic}",
        "{topic} is outside what I trade",
        "{topic} never made it onto my screens",
        "I only know the headlines {pp} {topic}",
        "no position and no real opinion {pp} {topic}",
        "others here know {topic} better than I do",
    ],
}
RELATE: dict[str, list[str]] = {
    "tr": [
        "benim işim daha çok {own} ile",
        "ben {own} cephesinde daha rahatım",
        "{own} olsa bir şey derdim",
        "sorsan {own} hakkında saatlerce konuşurum",
        "benim gündemim {own}",
        "mesaimin çoğu {own} ile geçiyor",
        "{own} benim saham sayılır",
        "kafam daha çok {own} ile meşgul",
        "ben daha çok {own} tarafına bakıyorum",
        "benim ilgim daha çok {own} üzerinde",
        "bildiğim alan {own}, oradan bakınca acele etmezdim",
        "ben gözümü {own} üzerinde tutuyorum",
        "benim takip listemde {own} var, oradan konuşabilirim",
    ],
    "en": [
        "I spend more time on {own}",
        "my focus is more on {own}",
        "what I know is {own}, and from there I wouldn't rush",
        "I keep my eyes on {own} instead",
        "ask me about {own} and I'll talk all day",
        "{own} is more my turf",
    ],
}

# How a reply relates to its target; "answer" opens the answer to a question ("mantıklı" is never one).
RELATIONS: Table = {
    "tr": {
        "agree": [
            "katılıyorum",
            "aynı fikirdeyim",
            "ben de öyle görüyorum",
            "bu konuda aynı yerdeyiz",
            "tam benim düşündüğüm",
            "buna itirazım yok",
            "haklısın bence",
            "benzer bir resim görüyorum",
            "aynen öyle",
            "doğru söylüyorsun",
            "dediğine katılmamak zor",
            "gözlemim de bu yönde",
            "evet, ben de bu taraftayım",
            "o konuda hemfikiriz",
            "bunu ben de söyleyecektim",
            "yerinde bir tespit",
            "bu yorumun altına imzamı atarım",
            "bence de öyle",
            "aklımdan geçeni yazmışsın",
            "iyi özetledin",
        ],
        "disagree": [
            "ben o kadar emin değilim",
            "bence durum farklı",
            "burada ayrışıyoruz",
            "buna katılmıyorum",
            "ben tersini düşünüyorum",
            "bu okumaya itirazım var",
            "pek öyle görmüyorum",
            "saygı duyarım ama bakışım farklı",
            "bir de öbür taraftan bakalım",
            "o kadar net değil bence",
            "farklı düşünüyorum",
            "açıkçası ikna olmadım",
            "bu sefer karşı taraftayım",
            "işin öbür yüzü var",
            "bu yoruma mesafeliyim",
            "şahsen öyle okumuyorum",
            "bence yanılıyorsun",
            "o tespite katılmam zor",
        ],
        "ask": [
            "bunu neye dayanarak söylüyorsun?",
            "hangi seviyeyi izliyorsun?",
            "zaman ufkun ne, kısa mı uzun mu?",
            "seni bu görüşten ne vazgeçirir?",
            "{topic} için hangi veriye bakıyorsun?",
            "{topic} tarafında stop seviyen nerede?",
            "bu görüşe nasıl vardın, merak ettim?",
            "{topic} için senin hedefin ne?",
            "peki {topic} için risk tarafını nasıl görüyorsun?",
            "biraz açar mısın, neyi görüyorsun?",
            "{topic} için hangi haberi bekliyorsun?",
            "bunu grafikten mi söylüyorsun, bilançodan mı?",
            "{topic} tarafında seni en çok ne heyecanlandırıyor?",
            "yanılırsan planın ne?",
            "bu görüşü ne zamandır taşıyorsun?",
            "{topic} için hangi senaryo seni ters köşe yapar?",
        ],
        "add": [
            "bir şey ekleyeyim",
            "şunu da hesaba katmak lazım",
            "buna bir not düşeyim",
            "bir detay var",
            "resme bir parça ekleyeyim",
            "gözden kaçan bir nokta var",
            "bir de şu var",
            "küçük bir ekleme yapayım",
            "şunu da unutmayalım",
            "bir bilgi paylaşayım",
            "resmin bir parçası daha var",
            "benden bir katkı",
        ],
        "answer": [
            "bana sorarsan",
            "kısa cevap vereyim",
            "cevabım şu",
            "dürüst cevabım şu",
            "soruya gelince",
            "şahsi fikrim şu",
            "tek cümleyle",
            "benim cevabım net",
            "iyi soru",
            "şöyle cevaplayayım",
            "hemen söyleyeyim",
            "sorduğun için söyleyeyim",
            "kısacası",
            "görüşümü söyleyeyim",
            "cevap vermek gerekirse",
        ],
    },
    "en": {
        "agree": [
            "agreed",
            "same here",
            "I see it the same way",
            "we're on the same page",
            "exactly my thinking",
            "no argument from me",
            "you're right on this one",
            "I'm seeing a similar picture",
            "fair take",
            "can't disagree with that",
            "that matches what I see",
        ],
        "disagree": [
            "I see it differently",
            "not sure I agree",
            "I'd push back on that",
            "I read it the other way",
            "that's not my read",
            "respectfully, I disagree",
            "let me take the other side",
            "it's less clear to me",
            "I'm not convinced",
            "hmm, that doesn't convince me",
        ],
        "ask": [
            "what makes you say that?",
            "which level are you watching?",
            "what's your time frame here?",
            "what would change your mind?",
            "what data are you looking at on {topic}?",
            "where's your stop on {topic}?",
            "how did you get to that view?",
            "what's your target on {topic}?",
            "how do you see the risk side on {topic}?",
        ],
        "add": [
            "one thing to add",
            "worth keeping in mind",
            "a small footnote",
            "there's a detail here",
            "let me add a piece",
            "something people miss",
            "also this",
        ],
        "answer": [
            "if you ask me",
            "short answer",
            "my answer",
            "honest answer",
            "as for the question",
            "speaking for myself",
            "in one line",
            "good question",
        ],
    },
}
# Addressing by name is one option among many, and rare: a prefix or a suffix of the first sentence.
ADDRESS: dict[str, list[str]] = {"tr": ["{name}, {text}", "{text}, {name}"], "en": ["{name}, {text}", "{text}, {name}"]}

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
            ],
            ["artıyor", "güçleniyor", "iyileşiyor", "canlanıyor", "destek veriyor", "toparlanıyor", "ısınıyor"],
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
            ],
            ["azalıyor", "zayıflıyor", "geriliyor", "kayboluyor", "sönümleniyor", "çekiliyor", "soğuyor"],
        ),
        "neutral": (
            [
                "veri akışı",
                "haber akışı",
                "fiyat hareketi",
                "hacim tarafı",
                "beklenti anketi",
                "piyasa nabzı",
                "fon akışı",
                "opsiyon piyasası",
                "yabancı pozisyonu",
            ],
            ["netleşmedi", "bir şey söylemiyor", "kararsız", "belirsiz", "yön vermiyor", "dengede", "bulanık"],
        ),
    },
    "en": {
        "bullish": (
            ["volume", "buyer interest", "momentum", "foreign demand", "risk appetite", "institutional interest"],
            ["is picking up", "is improving", "keeps building", "is coming back", "looks supportive"],
        ),
        "bearish": (
            ["volume", "buyer interest", "momentum", "risk appetite", "liquidity", "demand"],
            ["is fading", "is drying up", "keeps shrinking", "is slipping away", "is thinning out"],
        ),
        "neutral": (
            ["the data flow", "the news flow", "price action", "the volume picture", "positioning"],
            ["isn't clear yet", "says little", "is mixed", "gives no signal", "is all over the place"],
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
        "geçen haftadan beri",
        "dünden beri",
        "ay başından bu yana",
        "öğleden sonra",
        "açılıştan beri",
        "",
        "",
    ],
    "en": ["lately", "this week", "over the last sessions", "slowly", "clearly", "since last week", ""],
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
        ],
        "bearish": [
            "{level} altında kapanış gelirse aşağı hızlanır",
            "{level} direnci aşılmadıkça zayıf",
            "{level} altı bence olumsuz",
        ],
        "neutral": ["{level} civarı kritik eşik", "{level} seviyesini izliyorum", "{level} bölgesi iki tarafa da açık"],
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
        "ben {symbol} tarafında {price} maliyetle bekliyorum",
    ],
    "en": [
        "I've got {size} {symbol} in the portfolio at {price} average",
        "still holding {size} {symbol}, cost basis around {price}",
        "my {symbol} position is still there, average {price}",
        "I sit on {size} {symbol} from {price}",
    ],
}
MEMORY_INTROS: dict[str, list[str]] = {
    "tr": ["aklıma geldi", "kendi tecrübemden söyleyeyim", "şunu hiç unutmam", "bir anım var bununla ilgili", ""],
    "en": ["reminds me of something", "from my own experience", "I never forget this", ""],
}
QUESTIONS: dict[str, list[str]] = {
    "tr": [
        "siz {topic} için ne düşünüyorsunuz?",
        "{topic} tarafında gözden kaçırdığım bir şey var mı?",
        "bu hafta {topic} için kritik veri hangisi sizce?",
        "sizce {topic} için asıl risk ne?",
        "{topic} için farklı düşünen var mı?",
        "{topic} tarafında siz hangi seviyeye bakıyorsunuz?",
        "kimin {topic} için bir planı var?",
    ],
    "en": [
        "what do you all think about {topic}?",
        "am I missing something on {topic}?",
        "which data point matters most for {topic} this week?",
        "anyone see {topic} differently?",
        "what levels are you all watching on {topic}?",
    ],
}
# Discourse markers any persona may open with; the persona's own openers follow.
LEADS: dict[str, list[str]] = {
    "tr": [
        "açıkçası",
        "şöyle söyleyeyim",
        "dürüst olmak gerekirse",
        "şahsen",
        "aslında",
        "doğrusu",
        "bakın",
        "yani",
        "bir kere",
        "özetle",
        "kısacası",
    ],
    "en": ["honestly", "to be fair", "personally", "the way I see it", "in fairness", "look"],
}

OPENERS: Table = {
    "tr": {
        "street": ["Kanka", "Valla", "Abi bak", "Hocam", "Bak şimdi", "Net konuşayım"],
        "professional": ["Rakamlara bakınca", "Benim okumam şu", "İşin özü şu", "Profesyonel gözle"],
        "academic": ["Makro çerçeveden bakarsak", "Teorik olarak", "Verilere dayanarak söylersem", "Literatür der ki"],
        "veteran": ["Bu piyasada çok dalga gördüm", "Yıllardır buradayım", "Eskiler bilir", "Çok dönem gördüm"],
        "conservative": ["Temkinli konuşayım", "Ben riski önce düşünürüm", "Acele etmeden söyleyeyim"],
        "newbie": ["Ben daha yeniyim", "Yanlışım varsa düzeltin", "Acemi yorumu olacak belki", "Öğrendiğim kadarıyla"],
        "technical": ["Grafiğe bakınca", "Teknik tarafta", "Günlük grafikte", "Haftalık kapanışlara bakınca"],
    },
    "en": {
        "street": ["Bro", "Ngl", "Honestly man", "Yo", "Real talk"],
        "professional": ["Looking at the numbers", "My read is this", "Bottom line"],
        "academic": ["From a macro perspective", "Theoretically", "Based on the data"],
        "veteran": ["I've seen many cycles", "Been in this market for years", "Old-timers know this"],
        "conservative": ["Let me be careful here", "I think about risk first", "No rush"],
        "newbie": ["I'm still new here", "Correct me if I'm wrong", "Maybe a beginner take"],
        "technical": ["Looking at the chart", "On the technical side", "On the daily chart"],
    },
}

CLOSERS: Table = {
    "tr": {
        "street": ["ytd tabii", "bakarız artık", "neyse, takipteyim", "ekran başındayım zaten"],
        "professional": ["veriye göre güncellerim", "yatırım tavsiyesi değil", "rakam değişirse fikrim de değişir"],
        "academic": ["varsayımlar değişirse tablo da değişir", "kesinlik yok, olasılıklar var"],
        "veteran": ["sabır bu işin yarısı", "gençler hep acele ediyor", "zaman gösterir"],
        "conservative": ["sermayeyi korumak önce gelir", "pozisyonu küçük tutuyorum"],
        "newbie": ["öğreniyorum daha", "siz daha iyi bilirsiniz", "not alıyorum bunu"],
        "technical": ["hacim teyidi lazım", "seviyeleri izliyorum", "kapanışı bekleyelim"],
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

EMOJIS: dict[str, list[str]] = {
    "bullish": ["🚀", "📈", "💪"],
    "bearish": ["📉", "😬", "🧐"],
    "neutral": ["🤔", "👀", "☕"],
}


def text_polarity(text: str) -> Side:
    """Crude direction of a message from marker words: bullish, bearish or neutral."""
    lowered = text.replace("İ", "i").casefold()  # "İ".casefold() is "i" plus a combining dot
    bullish = sum(marker in lowered for marker in POLARITY_MARKERS["bullish"])
    bearish = sum(marker in lowered for marker in POLARITY_MARKERS["bearish"])
    if bullish == bearish:
        return "neutral"
    return "bullish" if bullish > bearish else "bearish"


def relation_to(own: str, target_text: str, *, tie: int = 0) -> Literal["agree", "disagree", "ask", "add"]:
    """How a reply relates to its target, from the bot's polarity and the target's apparent one.

    A question is answered (add); two views agree or disagree; a view meets an undecided bot with a question back,
    an undecided text meets a view with an addition; two undecided ones alternate by `tie`.
    """
    if "?" in target_text:
        return "add"
    theirs = text_polarity(target_text)
    if own != "neutral" and theirs != "neutral":
        return "agree" if own == theirs else "disagree"
    if own != "neutral":
        return "add"
    if theirs != "neutral":
        return "ask"
    return "ask" if tie % 2 else "add"


# Paraphrases applied to template text (never to memories, signature phrases or names): each keeps the grammar
# of its slot and the polarity of what it replaces, so the same template reads differently each time.
SYNONYMS: dict[str, dict[str, list[str]]] = {
    "tr": {
        "bence": ["kanaatimce", "kanımca", "benim gözümde"],
        "düşünüyorum": ["tahmin ediyorum", "sanıyorum", "öngörüyorum"],
        "görüyorum": ["seziyorum", "okuyorum"],
        "buluyorum": ["görüyorum", "sayıyorum"],
        "şu an": ["şu sıralar", "bugünlerde", "şimdilik"],
        "orta vadede": ["önümüzdeki aylarda", "birkaç aylık ufukta", "yıl sonuna doğru"],
        "resim": ["tablo", "görüntü", "manzara"],
        "gördüğüm kadarıyla": ["izlediğim kadarıyla", "benim gözlemimle", "takip ettiğim kadarıyla"],
        "benim okumamla": ["benim yorumumla", "okuduğum kadarıyla", "bana sorulursa"],
        "kendi hesabımda": ["yaptığım hesapta", "modelime göre", "not defterimde"],
        "açıkçası": ["doğrusu", "samimi olmak gerekirse", "itiraf edeyim"],
        "net": ["belirgin", "sağlam"],
        "yön": ["istikamet"],
        "ihtimalini": ["olasılığını"],
        "ihtimali": ["olasılığı"],
        "daha ağır": ["daha baskın", "daha yüksek"],
        "bir trendin içinde": ["bir kanalda", "bir eğilimde"],
        "taraftayım": ["cephedeyim", "saftayım"],
        "hacim": ["işlem hacmi"],
        "momentum": ["ivme"],
        "artıyor": ["çoğalıyor", "yükseliyor"],
        "azalıyor": ["eriyor", "geriliyor"],
        "bu hafta": ["bu günlerde", "hafta başından beri"],
        "son günlerde": ["son birkaç gündür", "yakın zamanda"],
        "karışık": ["dağınık", "bulanık"],
        "kararsızım": ["ikilemdeyim", "emin değilim"],
        "beklemedeyim": ["kenardayım", "izlemedeyim"],
        "görünüyor": ["geliyor", "duruyor"],
        "hakkında": ["üzerine", "ile ilgili"],
        "takip etmiyorum": ["izlemiyorum"],
        "yorum yapacak": ["fikir yürütecek", "konuşacak"],
        "katılıyorum": ["katılırım", "destekliyorum"],
        "aynı fikirdeyim": ["hemfikirim"],
        "farklı": ["başka"],
        "sizce": ["size göre", "sizin gözünüzde"],
        "kritik": ["belirleyici", "önemli"],
        "seviyeyi": ["eşiği"],
        "seviyesini": ["eşiğini", "bölgesini"],
        "izliyorum": ["takip ediyorum", "gözlüyorum"],
        "merak ettim": ["merak ediyorum"],
        "bekliyorum": ["öngörüyorum", "hesaplıyorum"],
        "devam edeceğini": ["süreceğini"],
        "süreceğini": ["devam edeceğini"],
        "potansiyel": ["alan", "imkân"],
        "bir şey": ["bir konu", "bir mesele"],
        "var bence": ["var gibi", "var kanımca"],
        "bir detay var": ["bir ayrıntı var", "ufak bir detay var"],
    },
    "en": {
        "I see": ["I'm seeing", "I spot"],
        "looks": ["seems", "reads"],
        "to me": ["from where I sit", "in my book"],
        "my read": ["my take", "my view"],
        "right now": ["at the moment", "for now", "these days"],
        "lately": ["recently", "in recent days"],
        "this week": ["these days", "since Monday"],
        "picture": ["setup", "backdrop"],
        "honestly": ["frankly", "to be honest"],
        "the data": ["the numbers", "the figures"],
        "clear": ["obvious", "settled"],
        "is mixed": ["is muddled", "is noisy"],
        "watching": ["tracking", "eyeing"],
        "agreed": ["agree", "yep, agreed"],
    },
}
# A qualifier a view may end with.
TAILS: dict[str, list[str]] = {
    "tr": ["en azından şimdilik", "kısa vadede", "bu çeyrekte", "yılın geri kalanında", "bir süre daha", "bu ay"],
    "en": ["at least for now", "in the short run", "this quarter", "for the rest of the year", "for a while"],
}
