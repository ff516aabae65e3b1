"""Japanese text rules for matching people and companies.

Pure functions, no models: used by services, imports and the API alike.
"""

import re
import unicodedata

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

# Legal-entity markers as they appear after NFKC (㈱ becomes (株), full-width
# parentheses become ASCII). Longest first so 株式会社 wins over 会社.
_ENTITY_MARKERS = (
    "株式会社", "有限会社", "合同会社", "合資会社", "合名会社",
    "一般社団法人", "一般財団法人", "公益社団法人", "公益財団法人",
    "特定非営利活動法人", "npo法人", "医療法人", "学校法人", "社会福祉法人",
    "(株)", "(有)", "(合)", "(同)", "(社)", "(財)",
    "kabushiki kaisha", "co., ltd.", "co.,ltd.", "co. ltd.", "co.ltd.", "co., ltd",
    "co.,ltd", "co ltd", "inc.", "inc", "corporation", "corp.", "corp", "k.k.", "ltd.", "ltd",
)  # fmt: skip
_SPACES = re.compile(r"[\s\u3000]+")
_PUNCT_EDGE = re.compile(r"^[\s,.・]+|[\s,.・]+$")


def nfkc(text: str) -> str:
    """NFKC-normalise and trim: full-width ASCII to half-width, half-width kana to full."""
    return unicodedata.normalize("NFKC", text or "").strip()


def normalize_email(email: str) -> str:
    """The form an email is matched by: NFKC (full-width @ and letters), trimmed, lower case."""
    return _SPACES.sub("", nfkc(email)).lower()


def normalize_company_name(name: str) -> str:
    """The form a company name is matched by.

    株式会社 / (株) / ㈱ / Inc. before or after the name, width, case and spaces do not
    matter: 「株式会社 ＡＢＣ」, 「ABC㈱」 and 「abc (株)」 all give ``abc``.
    """
    text = nfkc(name).lower()
    text = text.replace("（", "(").replace("）", ")")
    changed = True
    while changed:
        changed = False
        stripped = _PUNCT_EDGE.sub("", text)
        for marker in _ENTITY_MARKERS:
            if stripped.startswith(marker):
                stripped, changed = stripped[len(marker) :], True
            elif stripped.endswith(marker):
                stripped, changed = stripped[: -len(marker)], True
        text = stripped
    return _SPACES.sub("", text)


def normalize_domain(value: str) -> str:
    """A company domain from a URL, an email or a bare domain: lower case, no www."""
    text = nfkc(value).lower()
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0].strip(".")
    return text.removeprefix("www.")


def normalize_kana(text: str) -> str:
    """フリガナ as full-width katakana: hiragana and half-width kana are converted."""
    text = nfkc(text)
    return _SPACES.sub(" ", jaconv.hira2kata(text))


def normalize_person_name(text: str) -> str:
    """A family or given name: NFKC, inner spaces collapsed."""
    return _SPACES.sub(" ", nfkc(text))


def parse_phone(text: str, region: str = "JP") -> str:
    """A phone number in E.164 (+81…), Japan by default.

    Raises ValueError with a readable message when the number is not a possible number.
    """
    raw = nfkc(text)
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {raw!r}") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"not a possible phone number: {raw!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_prefecture(text: str) -> str:
    """A prefecture by its full name (東京都); accepts 東京, 大阪, 北海道 and the like.

    Returns "" for an empty value and raises ValueError for an unknown one.
    """
    value = nfkc(text)
    if not value:
        return ""
    if value in PREFECTURES:
        return value
    for prefecture in PREFECTURES:
        if prefecture[:-1] == value and prefecture != "北海道":
            return prefecture
    raise ValueError(f"unknown prefecture: {value!r}")


def search_text(*parts: str) -> str:
    """A lower-case, NFKC, space-free haystack for free-text search over names and kana."""
    joined = " ".join(nfkc(p).lower() for p in parts if p)
    return joined + " " + jaconv.kata2hira(joined) if joined else ""
