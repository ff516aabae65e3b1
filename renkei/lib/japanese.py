"""Japanese text rules for matching people and companies.

Pure functions, no models: used by services, imports and the API alike. Every
``normalize_*`` function is idempotent, so a stored key can be normalised again safely.
"""

import functools
import re
import unicodedata
from collections.abc import Callable

import jaconv
import phonenumbers

PREFECTURES: tuple[str, ...] = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県",
    "茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県",
    "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県",
    "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県",
    "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県",
    "徳島県", "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県",
    "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)  # fmt: skip

# Hepburn names in the order of PREFECTURES, for forms filled in English ("Tokyo", "Ōsaka-fu").
_PREFECTURES_ROMAJI: tuple[str, ...] = (
    "hokkaido", "aomori", "iwate", "miyagi", "akita", "yamagata", "fukushima",
    "ibaraki", "tochigi", "gunma", "saitama", "chiba", "tokyo", "kanagawa",
    "niigata", "toyama", "ishikawa", "fukui", "yamanashi", "nagano", "gifu",
    "shizuoka", "aichi", "mie", "shiga", "kyoto", "osaka", "hyogo",
    "nara", "wakayama", "tottori", "shimane", "okayama", "hiroshima", "yamaguchi",
    "tokushima", "kagawa", "ehime", "kochi", "fukuoka", "saga", "nagasaki",
    "kumamoto", "oita", "miyazaki", "kagoshima", "okinawa",
)  # fmt: skip
_PREFECTURE_BY_ROMAJI = dict(zip(_PREFECTURES_ROMAJI, PREFECTURES, strict=True))
_ROMAJI_SUFFIX = re.compile(r"[\s-]+(?:to|fu|ken|prefecture|pref\.?)$")

# Legal-entity markers as they appear after NFKC (㈱ and （株） become (株), ㍿ becomes
# 株式会社). Japanese markers are stripped wherever they touch the start or the end of the
# name; Latin ones only as whole words, so "Zinc" keeps its "inc" and "Baltd" its "ltd".
# Latin markers are written as _squeeze() leaves them: "co., ltd." becomes "co.,ltd.".
_JA_MARKERS = (
    "株式会社", "有限会社", "合同会社", "合資会社", "合名会社",
    "一般社団法人", "一般財団法人", "公益社団法人", "公益財団法人",
    "特定非営利活動法人", "npo法人", "医療法人", "学校法人", "社会福祉法人",
    "(株)", "(有)", "(合)", "(同)", "(資)", "(名)", "(社)", "(財)", "(医)", "(学)", "(福)",
)  # fmt: skip
_LATIN_MARKERS = (
    "kabushiki kaisha", "kabushikikaisha", "kabushiki-kaisha", "company limited",
    "co.,ltd.", "co.,ltd", "co.ltd.", "co.ltd", "co ltd", "co.", "co",
    "corporation", "corp.", "corp", "incorporated", "inc.", "inc", "limited", "ltd.", "ltd",
    "k.k.", "k.k", "kk", "g.k.", "g.k", "l.l.c.", "llc",
)  # fmt: skip
_JA_ALT = "|".join(re.escape(m) for m in sorted(_JA_MARKERS, key=len, reverse=True))
_LATIN_ALT = "|".join(re.escape(m) for m in sorted(_LATIN_MARKERS, key=len, reverse=True))
# Before the name only Japanese markers and "Kabushiki Kaisha" occur; "Co-op" must stay.
_MARKER_PREFIX = re.compile(rf"^(?:{_JA_ALT}|kabushiki[ -]?kaisha(?![a-z0-9]))")
_MARKER_SUFFIX = re.compile(rf"(?:{_JA_ALT}|(?<![a-z0-9])(?:{_LATIN_ALT}))$")
_PUNCT_EDGE = re.compile(r"^[\s,.・、。&/-]+|[\s,.・、。&/-]+$")
_SPACES = re.compile(r"\s+")  # in Python \s includes the ideographic space U+3000
# A space is a word boundary only between two Latin letters or digits ("abc co ltd").
_NON_WORD_SPACE = re.compile(r"(?<![a-z0-9])\s+|\s+(?![a-z0-9])")


def nfkc(text: str) -> str:
    """NFKC-normalise and trim: full-width ASCII to half-width, half-width kana to full."""
    return unicodedata.normalize("NFKC", text or "").strip()


def _until_stable(step: Callable[[str], str], text: str) -> str:
    """Apply ``step`` until the text stops changing.

    NFKC, case folding and space removal can each re-enable another on rare input: NFKC
    turns ¨ into a space and a combining mark, and dropping the space lets the next NFKC
    compose the mark with the letter before it. Repeating makes every key idempotent; a
    second pass changes nothing in practice, and the bound only guards against a cycle.
    """
    for _ in range(8):
        folded = step(text)
        if folded == text:
            break
        text = folded
    return text


def _email_once(email: str) -> str:
    return nfkc(_SPACES.sub("", nfkc(email)).lower())


def normalize_email(email: str) -> str:
    """The form an email is matched by: NFKC (full-width @ and letters), no spaces, lower case."""
    return _until_stable(_email_once, email)


def _squeeze(text: str) -> str:
    """Collapse spaces; keep one only where it separates two Latin words."""
    return _NON_WORD_SPACE.sub("", _SPACES.sub(" ", text))


def _company_once(name: str) -> str:
    full = _squeeze(nfkc(nfkc(name).casefold()))
    text = _PUNCT_EDGE.sub("", full)
    while True:
        stripped = _PUNCT_EDGE.sub("", _MARKER_SUFFIX.sub("", _MARKER_PREFIX.sub("", text)))
        if stripped == text:
            break
        text = stripped
    # A name that is nothing but a marker ("株式会社") keeps it rather than becoming "",
    # which would match every other such name.
    return _SPACES.sub("", text or _PUNCT_EDGE.sub("", full))


def normalize_company_name(name: str) -> str:
    """The form a company name is matched by.

    株式会社 / (株) / ㈱ / Inc. / Co., Ltd. before or after the name, width, case and spaces
    do not matter: 「株式会社 ＡＢＣ」, 「ABC㈱」 and 「abc (株)」 all give ``abc``.
    """
    return _until_stable(_company_once, name)


_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//|^mailto:")


def normalize_domain(value: str) -> str:
    """A company domain from a URL, an email or a bare domain: lower case, no www, no port."""
    text = _SPACES.sub("", nfkc(value)).lower()
    text = _SCHEME.sub("", text)
    host = re.split(r"[/?#]", text, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1]  # an email's domain, or a URL's user:password@ dropped
    host = host.split(":", 1)[0].strip(".")
    return host.removeprefix("www.")


def _kana_once(text: str) -> str:
    return _SPACES.sub(" ", nfkc(jaconv.hira2kata(nfkc(text))))


def normalize_kana(text: str) -> str:
    """フリガナ as full-width katakana: hiragana and half-width kana are converted."""
    return _until_stable(_kana_once, text)


def normalize_person_name(text: str) -> str:
    """A family or given name: NFKC, inner spaces collapsed."""
    return _SPACES.sub(" ", nfkc(text))


@functools.lru_cache(maxsize=16384)
def parse_phone(text: str, region: str = "JP") -> str:
    """A phone number in E.164 (+81…), Japan by default.

    Accepts full-width digits, any of the dashes Japanese text uses, (03) area codes and
    +81. Returns "" for an empty value; raises ValueError with a readable message for a
    number that is not an assigned range (too short, too long, not starting with 0…).
    Cached: imports repeat the same numbers (a company's switchboard on every card), and
    parsing one costs ~0.1 ms. Errors are not cached, they are raised again.
    """
    raw = nfkc(text)
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {raw!r}") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(
            f"not a valid phone number: {raw!r} (write it like 03-1234-5678 or +81 3-1234-5678)"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def normalize_prefecture(text: str) -> str:
    """A prefecture by its full name (東京都); accepts 東京, 大阪, 北海道, Tokyo, Ōsaka-fu.

    Returns "" for an empty value and raises ValueError for an unknown one.
    """
    value = _SPACES.sub("", nfkc(text))
    if not value:
        return ""
    if value in PREFECTURES:
        return value
    for prefecture in PREFECTURES:
        # 東京 → 東京都, 大阪 → 大阪府; 北海道's 道 is part of the name, not a suffix.
        if prefecture != "北海道" and prefecture[:-1] == value:
            return prefecture
    romaji = _ROMAJI_SUFFIX.sub("", _strip_accents(nfkc(text)).lower())
    if romaji in _PREFECTURE_BY_ROMAJI:
        return _PREFECTURE_BY_ROMAJI[romaji]
    raise ValueError(f"unknown prefecture: {nfkc(text)!r}")


def search_text(*parts: str) -> str:
    """A lower-case, NFKC, space-free haystack for free-text search over names and kana."""
    joined = " ".join(nfkc(p).lower() for p in parts if p)
    return joined + " " + jaconv.kata2hira(joined) if joined else ""
