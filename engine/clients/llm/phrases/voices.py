"""How a persona opens and colours a message."""

from __future__ import annotations

from engine.clients.llm.phrases.base import Table

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
    "en": [
        "honestly",
        "to be fair",
        "personally",
        "the way I see it",
        "in fairness",
        "look",
        "well",
        "so",
        "okay",
        "frankly",
        "short version",
        "fwiw",
    ],
}

OPENERS: Table = {
    "tr": {
        "street": ["Kanka", "Valla", "Abi bak", "Hocam", "Bak şimdi", "Net konuşayım", "Kardeşim", "Şimdi şöyle"],
        "professional": [
            "Rakamlara bakınca",
            "Benim okumam şu",
            "İşin özü şu",
            "Profesyonel gözle",
            "Masadaki rakamlarla",
        ],
        "academic": [
            "Makro çerçeveden bakarsak",
            "Teorik olarak",
            "Verilere dayanarak söylersem",
            "Literatür der ki",
            "Ampirik olarak",
            "Modelleme açısından",
        ],
        "veteran": [
            "Bu piyasada nice dalga gördüm",
            "Yıllardır buradayım",
            "Eskiler bilir",
            "Çok dönem gördüm",
            "Otuz yılın tecrübesiyle",
            "Benim yaşımda insan",
            "Nice krizler atlattık",
        ],
        "conservative": [
            "Temkinli konuşayım",
            "Ben riski önce düşünürüm",
            "Acele etmeden söyleyeyim",
            "Emekli gözüyle",
            "Usulca söyleyeyim",
        ],
        "newbie": [
            "Ben daha yeniyim",
            "Yanlışım varsa düzeltin",
            "Acemi yorumu olacak belki",
            "Öğrendiğim kadarıyla",
            "Sosyal medyada gördüm de",
            "Hocalar düzeltsin ama",
        ],
        "technical": [
            "Grafiğe bakınca",
            "Teknik tarafta",
            "Günlük grafikte",
            "Haftalık kapanışlara bakınca",
            "RSI tarafında",
            "Dört saatlikte",
        ],
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
        "street": ["ytd tabii", "bakarız artık", "neyse, takipteyim", "ekran başındayım zaten", "gerisi mum işi"],
        "professional": ["veriye göre güncellerim", "yatırım tavsiyesi değil", "rakam değişirse fikrim de değişir"],
        "academic": ["varsayımlar değişirse tablo da değişir", "kesinlik yok, olasılıklar var"],
        "veteran": [
            "sabır bu işin yarısı",
            "gençler hep acele ediyor",
            "zaman gösterir",
            "piyasa herkese bir gün ders verir",
        ],
        "conservative": ["sermayeyi korumak önce gelir", "pozisyonu küçük tutuyorum", "temettüsünü alır, beklerim"],
        "newbie": ["öğreniyorum daha", "siz daha iyi bilirsiniz", "not alıyorum bunu", "yanılıyorsam söyleyin"],
        "technical": [
            "hacim teyidi lazım",
            "seviyeleri izliyorum",
            "kapanışı bekleyelim",
            "geçersizlik seviyesi belli",
        ],
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
        "calm": ["sakin kalmak lazım", "panik yok, planım belli", "telaşa gerek yok", "kafam rahat, planım var"],
        "enthusiastic": [
            "bu aralar çok heyecanlıyım",
            "tempo harika",
            "ekran başında keyifliyim",
            "bu hareket beni heyecanlandırıyor",
        ],
        "anxious": [
            "açıkçası biraz tedirginim",
            "gece uykum kaçıyor bazen",
            "içim pek rahat değil",
            "her kırmızı mumda geriliyorum",
        ],
        "cynical": [
            "tabii burada herkes her şeyi biliyor",
            "her hafta yeni bir hikaye",
            "uzmanlar yine sahnede",
            "bu filmi daha önce izledik",
        ],
        "optimistic": [
            "her dalgalanma bir öğrenme fırsatı",
            "sabredene fırsat çıkıyor",
            "güzel günler de gelecek",
            "umudumu kaybetmem",
        ],
        "grumpy": ["yine aynı tartışma", "bu gürültüden sıkıldım", "kimse dinlemiyor zaten", "her gün aynı laflar"],
        "playful": [
            "bakalım kim haklı çıkacak",
            "patlamış mısırlar hazır",
            "iddiaya var mısınız",
            "şimdi eğlence başlıyor",
        ],
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
