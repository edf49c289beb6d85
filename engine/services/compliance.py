"""The compliance guard: profit guarantees and direct buy/sell orders to the group or a member, Turkish and English.

Rules are written on `normalize.fold`'s form (look-alikes, hidden characters, casing and Turkish letters folded:
"Hemen THYAO аlın" with a Cyrillic а is "hemen thyao alin"), one table of rules, each with the exemptions that
keep a bot's own, past, hedged or questioning talk out: "THYAO aldım", "ben satmayı düşünüyorum", "should I
sell?", "I bought some", "garantisi yok", "could double". The corpus that measures it is
`config/testing/compliance_corpus.py` (docs/reliability.md gives its precision and recall).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from engine.services.normalize import fold


class Finding(StrEnum):
    """What a rule finds; the value is the repair call's words for it (English, then Turkish)."""

    GUARANTEE = "promises a profit (kâr garantisi)"
    ORDER = "gives a direct buy/sell instruction (al/sat talimatı)"


@dataclass(frozen=True)
class Rule:
    """One pattern on the folded text, with the exemptions that apply to what it matches."""

    finding: Finding
    pattern: re.Pattern[str]
    negation: bool = False  # "no guaranteed returns", "garantisi yok": a negation just before or after exempts it
    hedge: bool = False  # "I think it could double", "bence ikiye katlar": a hedge in the sentence exempts it
    question: bool = True  # "buy or hold?", "should I sell?": a match in a question is no order
    not_after: frozenset[str] = frozenset()  # words that make it something else just before it: "nefes al"


def _rx(pattern: str) -> re.Pattern[str]:
    """A pattern where "<" (not in "(?<") starts a word and ">" ends one."""
    return re.compile(re.sub(r"(?<!\?)<", "(?<![a-z0-9'])", pattern.replace(">", "(?![a-z0-9])")))


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# --- words the rules share (folded: no Turkish letters, lower case) -------------------------------------------
FILLER = (
    r"(?:so|just|now|guys|everyone|everybody|y'?all|ya'?ll|folks|people|fam|bro|bros|lads|frens|friends|team|pls|plz|"
    r"please|seriously|honestly|definitely|absolutely|simply|really|literally|go|and|then|ok|okay|hey|yes|yeah|yep|"
    r"quick|quickly|asap|right|today|imo|imho|tbh|ngl|def|defo|@\w+)"
)
CLAUSE = r"(?:^|[.!?;:,\n(\"]\s*|\s[-–—]\s*)(?:" + FILLER + r"\s+)*"
EN_NOUNS = (
    r"volumes?|orders?|signals?|side|pressure|walls?|ratio|ratings?|programs?|button|limits?|stops?|zone|zones|"
    r"interest|flow|levels?|point|case|thesis|setup|the rumou?r|the news|in may|off|-?and-hold|and hold|or\b|vs\b"
)
EN_VERB = (
    r"(?:buy>(?![-/])(?!\s+(?:" + EN_NOUNS + r"))|sell>(?![-/])(?!\s+(?:" + EN_NOUNS + r"))|"
    r"dump(?=\s+(?:it|them|your|ur|everything|all|now|asap|this|that|those|these|bags|some|half))|"
    r"grab(?=\s+(?:some|more|a bag|bags|it|them|shares|the dip|this|these|a few|your|a position|as much))|"
    r"scoop(?=\s+(?:up|some|more|it|them|the dip))|pick\s+up(?=\s+(?:some|more|a few|shares|it|them|the dip))|"
    r"load(?:\s+up|\s+the\s+boat|\s+your\s+bags)|"
    r"stack(?=\s+(?:some|more|it|them|sats|shares|up|bags))|accumulate>|ape\s+in(?:to)?|fomo\s+in(?:to)?|"
    r"get\s+in(?:to)?>(?!\s+(?:touch|trouble|line|the way|shape|here))|"
    r"get\s+out>(?!\s+of\s+(?:here|the way|bed))(?!\s+the>)|"
    r"jump\s+in(?:to)?>|pile\s+in(?:to)?>|go\s+(?:all[- ]?in|long|short)>|add\s+(?:more|some|to\s+(?:your|ur))>|"
    r"take\s+(?:some\s+|your\s+|the\s+)?profits?>(?!\s+(?:levels?|targets?|orders?|zones?))|back\s+up\s+the\s+truck|fill\s+(?:your|ur)\s+bags|"
    r"(?:short|long)\s+(?:it|this|them|now)>|cash\s+out>|time\s+to\s+(?:buy|sell|load|get in|get out|accumulate|dump|"
    r"stack|grab|take profits?|back up|go all))"
)
EN_MODAL_VERB = (
    r"(?:buy|sell|dump|grab|load|stack|accumulate|ape|get\s+in|get\s+out|jump\s+in|pile\s+in|go\s+(?:all|long|short)|"
    r"add|take\s+profits?|scoop|fomo|back\s+up|exit|bail|cash\s+out|own|be\s+(?:buying|selling|loading)|"
    r"consider\s+(?:buying|selling))>"
)
EN_WHO = r"(?:you(?:\s+guys|\s+all|\s+lot|\s+people)?|u|ya|y'?all|everyone|everybody|all\s+of\s+you|people)"
EN_MUST = (
    r"(?:should|must|need\s+to|needs\s+to|have\s+to|has\s+to|gotta|got\s+to|better|'d\s+better|had\s+better|"
    r"ought\s+to|oughta|want\s+to|wanna)"
)
EN_ADVERB = r"(?:definitely|really|seriously|just|all|totally|absolutely|probably|def|defo|honestly|now|so|also|"
EN_ADVERB += r"deffo|100%|asap|at least|strongly)"
TR_URGENT = r"(?:hemen|derhal|acilen|simdi|cabuk|mutlaka|kesin|kesinlikle|bir an once|vakit kaybetmeden|beklemeden)"
# A word before "al"/"alın" that makes it "take" rather than "buy": "nefes al", "not alın", "önlem alın".
TR_LIGHT = _set(
    "nefes not notu notlar notunu ornek ders dikkate ele yardim izin karar haber onlem onlemini onleminizi "
    "tedbir tedbirini tedbirinizi keyif zevk risk riski mola ogut soz intikam hava dus geri ise kontrol kontrolu "
    "sorumluluk ustune uzerine baz hedef destek kayda kayit payini omuz yanina gaz tavsiye akil bilgi"
)
# What may follow "al"/"sat" when they name a signal, a side or a question, or are quoted: "al sinyali",
# "al-sat", "al mı sat mı", "herkes al diyor".
TR_NOT_ORDER = (
    r"(?:[-/]|\s+(?:sinyal\w*|emr\w*|emir\w*|taraf\w*|seviye\w*|bolge\w*|yonlu|veya|ya\s+da|yada|yoksa|mi\w*|mu\w*|"
    r"diye|diyo\w*|dedi\w*|diyen\w*|demi\w*|der|derler|denir|derim|demek\w*|dese\w*|tavsiye\w*|firsat\w*|"
    r"sat\w*|al\w*|ver\w*|baski\w*|gibi|seklinde|butonu\w*|tusu\w*)>)"
)
TR_AL = _set("al al- al/ veya yada")  # "al-sat", "al ya da sat": trading, not an order
TR_PLACES = _set("linke siteye gruba kanala sayfaya detaya konuya ise eve iceri disari odaya sisteme gir cik")
TR_OTHER_OBJECTS = _set("kafani kendini aklini formu depoyu bardagi dosyayi fotografi uygulamayi videoyu")
TR_QUOTED = r"(?=[\s,!.]*(?:diye|diyor\w*|dedi\w*|diyen\w*|der\b|derler|denir|says|said|saying|screaming|shouting))"

RULES: tuple[Rule, ...] = (
    # --- Turkish orders ---
    Rule(
        Finding.ORDER,
        _rx(r"<(?:al|alin|aliniz|alsana|alsaniza|aliver|aliverin)>(?!\s+teri)(?!" + TR_NOT_ORDER + ")"),
        not_after=TR_LIGHT,
    ),
    Rule(Finding.ORDER, _rx(r"<(?:sat|satin|satiniz|satsana|satsaniza)>(?!" + TR_NOT_ORDER + ")"), not_after=TR_AL),
    Rule(Finding.ORDER, _rx(r"<(?:elden\s+cikarin|bosaltin|bosaltiniz|satisa\s+gecin)>")),
    Rule(
        Finding.ORDER,
        _rx(
            r"<(?:gir|girin|giriniz|girsene|girsenize|cik|cikin|cikiniz)>(?!\s+(?:gir|cik|yap)\w*)(?!"
            + TR_NOT_ORDER
            + ")"
        ),
        not_after=TR_PLACES,
    ),
    Rule(
        Finding.ORDER,
        _rx(
            r"<(?:topla|toplayin|toplayiniz|toplasana|doldur|doldurun|doldurunuz|doldursana|yukle|yukleyin|"
            r"yukleyiniz|yuklenin|yukleninz|yuklen|biriktirin|biriktiriniz|yatirim\s+yapin|yatirim\s+yapiniz)>(?!\s+mi)"
        ),
        not_after=TR_OTHER_OBJECTS,
    ),
    Rule(Finding.ORDER, _rx(r"<(?:portfoy|sepet|canta|liste)\w*\s+(?:\w+\s+)?(?:ekle|ekleyin|ekleyiniz|koyun)>")),
    Rule(Finding.ORDER, _rx(r"<(?:kacirma|kacirmayin|kacirmayiniz)>(?!\s+(?:korku|endise|psikoloji|sendrom)\w*)")),
    Rule(Finding.ORDER, _rx(r"<(?:trene|gemiye|rokete|ucaga|vagona)\s+(?:bin|binin|atla|atlayin)>")),
    Rule(Finding.ORDER, _rx(r"<(?:long|short|pozisyon)[\w']*\s+(?:acin|aciniz|ac|gecin|gec|kurun)>(?!\s+mi)")),
    Rule(
        Finding.ORDER,
        _rx(
            r"<(?:al|sat|gir|cik|topla|doldur|yukle|ekle)(?:ma|me)(?:nizi|niz|ni)\s+(?:\w+\s+)?"
            r"(?:tavsiye|oner|isterim|rica|gerek|lazim|sart|iyi|mantikli|akillica|faydali)|"
            r"<(?:al|sat|gir|cik|topla)(?:ma|me)n\s+(?:lazim|gerek|gerekiyor|sart)>"
        ),
    ),
    Rule(Finding.ORDER, _rx(r"<(?:alma|satma|girme|alim|satis|giris)(?:nin)?\s+(?:tam\s+)?(?:zamani|vakti)>(?!\s*mi)")),
    Rule(Finding.ORDER, _rx(r"<(?:al|sat|gir|cik|topla|doldur|yukle|ekle)(?:mali|meli)(?:sin|siniz)(?:iz)?>")),
    Rule(Finding.ORDER, _rx(r"<(?:al|sat|gir|topla)(?:sa|se)(?:niz|n)\s+iyi\s+(?:olur|edersin|edersiniz)>")),
    Rule(
        Finding.ORDER,
        _rx(
            r"<(?:ben\s+olsam|yerinde\s+olsam|yerinizde\s+olsam)\s+(?:\w+\s+){0,3}"
            r"(?:alirdim|satardim|girerdim|toplardim|cikardim|eklerdim)>"
        ),
    ),
    Rule(
        Finding.ORDER,
        _rx(
            r"<(?:almayan|satmayan|girmeyen)(?:lar)?\s+(?:\w+\s+)?(?:pisman|uzul|aglar|kaybeder|salak|"
            r"aptal|enayi)"
        ),
    ),
    Rule(
        Finding.ORDER,
        _rx(
            r"<(?:almak|satmak|girmek)\s+icin\s+(?:en\s+)?(?:dogru|iyi|uygun|guzel)\s+(?:zaman|an|"
            r"firsat)\w*"
        ),
    ),
    Rule(Finding.ORDER, _rx(r"(?:dan|den|tan|ten)\s+(?:alinir|toplanir|satilir|girilir|alabilirsiniz)>(?!\s*mi)")),
    Rule(Finding.ORDER, _rx(r"<(?:alinmali|satilmali|toplanmali|girilmeli)>(?!\s*mi)")),
    Rule(Finding.ORDER, _rx(r"<(?:parayi\s+bas(?:in)?|bas\s+parayi)>")),
    # --- English orders ---
    Rule(Finding.ORDER, _rx(CLAUSE + EN_VERB)),
    Rule(Finding.ORDER, _rx(r"<" + EN_WHO + r"\s+" + EN_MUST + r"\s+(?:" + EN_ADVERB + r"\s+)*" + EN_MODAL_VERB)),
    Rule(Finding.ORDER, _rx(r"<we\s+(?:should|must|need\s+to|have\s+to|gotta)\s+all\s+" + EN_MODAL_VERB)),
    Rule(
        Finding.ORDER,
        _rx(r"<(?:anyone|everyone|whoever)\s+(?:\w+\s+){0,4}(?:should|must|needs\s+to|has\s+to)\s+" + EN_MODAL_VERB),
    ),
    Rule(Finding.ORDER, _rx(r"<you'?d\s+be\s+(?:crazy|stupid|foolish|a\s+fool|insane|mad|nuts|silly)\s+not\s+to>")),
    Rule(
        Finding.ORDER,
        _rx(
            r"<if\s+i\s+(?:were|was)\s+you,?\s+i'?d\s+(?:\w+\s+)?(?:buy|sell|load|get|grab|dump|take|go)>|"
            r"<i'?d\s+(?:buy|sell|load up|get in|get out|grab)\s+(?:\w+\s+){0,4}if\s+i\s+(?:were|was)\s+you>"
        ),
    ),
    Rule(
        Finding.ORDER,
        _rx(
            r"<i\s+(?:strongly\s+|highly\s+|really\s+)?(?:recommend|suggest|advise|urge)(?:\s+(?:you|everyone|"
            r"y'?all|all\s+of\s+you|that\s+you|you\s+guys))?(?:\s+to)?\s+(?:buy|sell|get|grab|load|accumulat|dump|go\s+long)"
        ),
    ),
    Rule(
        Finding.ORDER,
        _rx(
            r"<my\s+(?:advice|recommendation|tip|call)(?:\s+(?:is|would\s+be|here|for\s+you))?\s*[:-]?\s*(?:to\s+)?"
            r"(?:buy|sell|load|get in|get out|grab|dump|go all|accumulate)>"
        ),
    ),
    Rule(
        Finding.ORDER, _rx(r"<do\s+yourself\s+a\s+favou?r\s*(?:,|and)?\s+(?:and\s+)?(?:buy|sell|get|grab|load|dump)>")
    ),
    Rule(
        Finding.ORDER,
        _rx(
            r"<(?:it'?s|its|it\s+is|now'?s|now\s+is|this\s+is|today\s+is)\s+(?:the\s+)?(?:perfect\s+|best\s+|right\s+)?"
            r"time\s+to\s+(?:buy|sell|load|get\s+in|get\s+out|accumulate|dump|take\s+profits?|back\s+up|grab|stack)>"
        ),
    ),
    Rule(
        Finding.ORDER, _rx(r"<(?:strong|screaming|must)[- ](?:buy|sell|own)>(?!\s+(?:signal|rating|ratings|from|by))")
    ),
    Rule(
        Finding.ORDER,
        _rx(
            r"<don'?t\s+miss\s+(?:out|this|it|the\s+(?:boat|train|move|pump|rally|dip))>|"
            r"<last\s+chance\s+to\s+(?:buy|get\s+in|load|sell)>|<you'?ll\s+regret\s+not\s+(?:buying|selling|getting)>|"
            r"<before\s+it'?s\s+too\s+late>"
        ),
    ),
    # --- Turkish guarantees and certainty ---
    Rule(
        Finding.GUARANTEE,
        _rx(
            r"<kesin(?:likle)?\s+(?:[a-z0-9']+\s+){0,2}?(?:ucar|ucacak|yukselir|yukselecek|cikar|cikacak|kazandirir|"
            r"kazandiracak|kazanir|kazanacak|gorur|gorecek|kazanirsin|kazanirsiniz|kazanacaksin|kazanacaksiniz|kazanc\w*|kar|kari|karli|getiri\w*|"
            r"patlar|patlayacak|katlar|katlayacak|tavan\w*|zengin\w*|prim\s+yap\w*|gider|gidecek|artar|artacak)>|"
            r"<(?:ucar|ucacak|yukselir|yukselecek|kazandirir|kazandiracak|patlayacak|katlayacak)\s+kesin(?:likle|dir)?>"
        ),
        negation=True,
    ),
    Rule(
        Finding.GUARANTEE,
        _rx(
            r"<garanti(?:li|dir|sini|si)?>(?!\s*(?:bankasi|bbva|bank)|')(?:\s+[a-z0-9%']+){0,2}\s+(?:kazan\w*|kar|kari|"
            r"karli|getiri\w*|para\w*|prim\w*|yuksel\w*|ucar|ucacak|artis\w*|artar|artacak|%?\d+|yuzde|kat\w*|"
            r"zengin\w*|tavan\w*|veriyorum|ederim|ediyorum)>|"
            r"<(?:kazanc\w*|kar|kari|getiri\w*|para|prim|yukselis|artis|%\s*\d+|\d+\s*%|bu\s+is|bu\s+hisse|bu\s+coin)"
            r"(?:\s+[a-z0-9%']+){0,2}?\s+garanti(?:li|dir|si)?>(?!\s*(?:bankasi|bbva))"
        ),
        negation=True,
    ),
    Rule(
        Finding.GUARANTEE,
        _rx(
            r"(?:<yuzde\s*yuz|%\s*100|<100\s*%)\s+(?:[a-z']+\s+){0,2}?(?:kazandirir|kazandiracak\w*|kazanc\w*|kazanirsin\w*|kar|kari|"
            r"getiri\w*|yukselir|yukselecek|ucar|ucacak|eminim|emin|garanti\w*|olur|olacak|cikar|cikacak|artar|"
            r"artacak|prim\s+yap\w*|katlar)>"
        ),
        negation=True,
    ),
    Rule(
        Finding.GUARANTEE,
        _rx(
            r"<(?:ikiye|iki|uce|uc|\d+(?:'?y?[ae])?)\s+katla(?:r|yacak|yacaktir)>|<(?:iki|uc|\d+)\s+katina\s+"
            r"(?:cikar|cikarir|cikacak|cikaracak)>|<\d+\s*x\s+(?:yapar|yapacak|getirir|getirecek)>|<paran(?:izi|i)\s+katla\w*"
        ),
        hedge=True,
    ),
    Rule(
        Finding.GUARANTEE,
        _rx(
            r"<(?:kaybetmezsin(?:iz)?|kaybetmeyeceksin(?:iz)?|zarar\s+etmezsin(?:iz)?|zarar\s+etmeyeceksin(?:iz)?|"
            r"kaybettirmez|sifir\s+risk|hic\s+riski\s+yok|bedava\s+para|kesin\s+bilgi|risksiz\s+(?:kazanc|kar|getiri|"
            r"para|firsat)\w*|zengin\s+(?:olacaksiniz|olursunuz|olacaksin|olursun|olacak|olur|eder|edecek)|"
            r"(?:kaybetme|zarar)\s+(?:ihtimali|ihtimaliniz|sansi|riski)\s+(?:yok|sifir))>(?!\s+(?:diye|mi|mu))"
        ),
    ),
    # --- English guarantees and certainty ---
    Rule(
        Finding.GUARANTEE,
        _rx(
            r"<guarantee[ds]?\s+(?:(?:a|an|the|you|your|of|at\s+least|over|minimum|min)\s+)*(?:\d+\s*(?:%|x|percent)|"
            r"\d+x|returns?|profits?|gains?|money|wins?|payouts?|income|upside|double|to\s+(?:go\s+up|double|triple|"
            r"rise|moon|pump|rally|make|print|run|rip|\d+x|hit|reach|gain|profit|return))|"
            r"(?:\d+\s*(?:%|x|percent)|<returns?|<profits?|<gains?|<money|<income|<payouts?|<upside)\s+(?:\w+\s+)?"
            r"guaranteed>"
        ),
        negation=True,
    ),
    Rule(
        Finding.GUARANTEE,
        _rx(
            r"(?:<100\s*%|%\s*100|<100\s+percent|<hundred\s+percent)\s+(?:\w+\s+)?(?:sure|certain|guaranteed|gains?|"
            r"profits?|returns?|win|safe|going\s+up|legit)>"
        ),
        negation=True,
    ),
    Rule(
        Finding.GUARANTEE,
        _rx(
            r"(?<!i )(?<!we )<(?:can'?t|cannot|can\s+not)\s+(?:lose|go\s+wrong|fail)>|<impossible\s+to\s+lose>|"
            r"<no\s+way\s+(?:to\s+lose|you\s+lose|(?:it|this|we)\s+(?:goes|drops|falls|dumps|loses))>|<zero\s+risk>|"
            r"<risk[- ]?free>(?!\s+(?:rate|rates|asset|assets|bonds?|treasur\w*|yield))|"
            r"<free\s+money>(?!\s+(?:era|days|policy|period|is\s+over))|"
            r"<sure\s+(?:thing|bet|win|profit|gains?|shot)>|<(?:easy|easiest)\s+(?:money|profits?|gains|\d+x|double)>|"
            r"<(?:zero|no)\s+chance\s+(?:this|it|of)\s+(?:drops|falls|goes\s+down|losing|dumps)>|"
            r"[,-]\s*guaranteed>(?=\s*[.!]|\s*$)|"
            r"<print(?:ing)?\s+money>|<(?:double|triple)\s+your\s+money>|"
            r"<you'?(?:ll|\s+will)\s+(?:get\s+rich|be\s+rich|make\s+(?:money|a\s+fortune|bank)|thank\s+me)>|"
            r"<(?:you\s+)?won'?t\s+regret\s+(?:it|buying|this)>"
        ),
        negation=True,
    ),
    Rule(
        Finding.GUARANTEE,
        _rx(
            r"(?:<will|'ll|<is\s+going\s+to|'s\s+going\s+to|<gonna)\s+(?:definitely\s+|surely\s+|certainly\s+|100%\s+|"
            r"for\s+sure\s+|easily\s+|absolutely\s+)?(?:double|triple|quadruple|\d+x|moon|skyrocket|explode|"
            r"go\s+parabolic)>|<will\s+(?:definitely|surely|certainly|100%|for\s+sure|absolutely)\s+(?:go\s+up|rise|"
            r"rally|pump|recover|moon)>"
        ),
        hedge=True,
    ),
)
# A cheap first test: most messages have none of the words any rule needs.
TRIGGER = _rx(
    r"<(?:al|alin\w*|als\w*|aliver\w*|alma\w*|almak|sat\w*|gir\w*|cik\w*|elden|bosalt\w*|topla\w*|toplan\w*|"
    r"doldur\w*|yukle\w*|biriktir\w*|yatirim|ekle\w*|koyun|kacirma\w*|bin|binin|atla\w*|acin|aciniz|ac|gec\w*|"
    r"kurun|zamani|vakti|olsam|girilir|girilmeli|alabilirsiniz|bas|parayi|kesin\w*|garanti\w*|yuzde|katla\w*|"
    r"katina|kaybet\w*|zarar|sifir|hic|bedava|risksiz|zengin|\d+\s*x|"
    r"buy|sell|dump|grab|scoop|pick|load|stack|accumulate|ape|fomo|get|jump|pile|go|add|take|back|fill|short|long|"
    r"cash|time|exit|bail|own|buying|selling|loading|miss|late|regret|crazy|stupid|foolish|fool|insane|mad|nuts|"
    r"silly|guarantee\w*|100|hundred|percent|lose|wrong|fail|way|chance|risk|free|sure|easy|easiest|print\w*|money|"
    r"double|triple|quadruple|moon|skyrocket|explode|parabolic|rich|fortune|thank)>|%"
)
SENTENCE_END = re.compile(r"[.!?\n]")
NEGATION_BEFORE = _rx(
    r"<(?:no|not|never|nothing|isn'?t|aren'?t|wasn'?t|without|nobody|none|don'?t|doesn'?t|can'?t|cannot|won'?t|"
    r"hic|hicbir|kimse|kimsenin|kimseye|promising|promises|promise|claims?|claiming|scam\w*)>"
)
NEGATION_AFTER = _rx(
    r"\s*(?:[a-z0-9']+\s+){0,3}?(?:degil\w*|yok\w*|veremem|veremez|verilemez|edemem|edemez|edilemez|olmaz|olamaz|"
    r"vermem|vermiyorum|etmiyorum|etmem|bilmiyorum|bilemem|diyemem|soyleyemem|mi|mu|misin|midir|is\s+a\s+myth|"
    r"doesn'?t\s+exist|don'?t\s+exist|vaat\w*|vadeden\w*|diyen\w*|is\s+a\s+scam|dolandiric\w*)>"
)
HEDGE = _rx(
    r"<(?:might|may|could|maybe|perhaps|probably|possibly|think|guess|hope|hopefully|(?<!no )doubt|unlikely|if|whether|"
    r"wonder|imagine|belki|bence|sanirim|galiba|umarim|muhtemelen|olabilir|eger|bilmem|bilmiyorum|zor|sanmam|"
    r"sanmiyorum)>"
)
QUOTED_SPEECH = re.compile(
    r"[\"“«][^\"”»\n]{1,80}[\"”»]" + TR_QUOTED.replace("\\w", "[a-z]") + "|"
    r"(?:dedi|diyor|diyen|der|derdi|yazdi|says|said|saying|wrote|tweeted|yelling|screaming|shouting)(?:\s+ki)?\s*[:,]?\s*[\"“«][^\"”»\n]{1,80}[\"”»]"
)


def findings(text: str) -> list[Finding]:
    """What the guard finds in a message, each kind once, guarantees first."""
    folded = fold(text)
    if not TRIGGER.search(folded):
        return []
    return matched(QUOTED_SPEECH.sub(" ", folded))  # 'herkes "hemen alın" diyor': someone else's words


def matched(folded: str) -> list[Finding]:
    """What the rules find in a folded text (without the first test), each kind once, guarantees first."""
    found = {rule.finding for rule in RULES if _applies(rule, folded)}
    return [finding for finding in Finding if finding in found]


def _applies(rule: Rule, text: str) -> bool:
    return any(not _exempt(rule, text, match) for match in rule.pattern.finditer(text))


def _exempt(rule: Rule, text: str, match: re.Match[str]) -> bool:
    start = max((m.end() for m in SENTENCE_END.finditer(text, 0, match.start())), default=0)
    end = SENTENCE_END.search(text, match.end())
    if rule.question and end is not None and end.group() == "?":
        return True
    before = text[start : match.start()].split()[-4:]
    if rule.not_after and before and (before[-1] in rule.not_after or " ".join(before[-2:]) == "ya da"):
        return True
    if rule.negation and (
        NEGATION_BEFORE.search(" ".join(before)) or NEGATION_AFTER.match(text, match.end(), match.end() + 40)
    ):
        return True
    sentence = text[start : end.start() if end else len(text)]
    return rule.hedge and HEDGE.search(sentence) is not None
