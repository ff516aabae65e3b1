"""Japanese matching rules: every spelling of one company, email or kana gives one key."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from renkei.lib.japanese import (
    PREFECTURES,
    normalize_company_name,
    normalize_domain,
    normalize_email,
    normalize_kana,
    normalize_person_name,
    normalize_prefecture,
    parse_phone,
    search_text,
)


def full_width(text: str) -> str:
    """The full-width (全角) spelling of printable ASCII, as Japanese IMEs type it."""
    return "".join(
        "\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text
    )


# --- company names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "株式会社日立製作所",
        "日立製作所株式会社",
        "(株)日立製作所",
        "日立製作所(株)",
        "㈱日立製作所",
        "日立製作所㈱",
        "（株）日立製作所",
        "日立製作所（株）",
        "株式会社　日立製作所",
        "株式会社 日立製作所 ",
        "㍿日立製作所",
        "( 株 ) 日立製作所",
    ],
)
def test_kabushiki_kaisha_marker_is_ignored_in_every_spelling_and_position(spelling: str) -> None:
    assert normalize_company_name(spelling) == "日立製作所"


@pytest.mark.parametrize(
    "spelling",
    [
        "ABC",
        "ＡＢＣ",
        "abc",
        "A B C",
        "ＡＢＣ株式会社",
        "株式会社ＡＢＣ",
        "ABC㈱",
        "abc (株)",
        "ABC Inc.",
        "ABC, Inc.",
        "ABC Co., Ltd.",
        "ABC Co.,Ltd.",
        "ABC CO., LTD.",
        "Ａｂｃ　Ｃｏ．，　Ｌｔｄ．",
        "ABC Corporation",
        "ABC Corp.",
        "ABC K.K.",
        "Kabushiki Kaisha ABC",
        "ABC Limited",
    ],
)
def test_width_case_spaces_and_latin_legal_suffixes_do_not_matter(spelling: str) -> None:
    assert normalize_company_name(spelling) == "abc"


def test_half_width_katakana_company_matches_full_width() -> None:
    assert normalize_company_name("ｿﾆｰ株式会社") == normalize_company_name("ソニー株式会社")
    assert normalize_company_name("ソニー株式会社") == "ソニー"


def test_other_legal_forms_are_ignored_too() -> None:
    assert normalize_company_name("有限会社山田商店") == "山田商店"
    assert normalize_company_name("山田商店㈲") == "山田商店"
    assert normalize_company_name("合同会社ABC") == "abc"
    assert normalize_company_name("一般社団法人 日本マーケティング協会") == "日本マーケティング協会"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("株式会社日立", "日立物流"),
        ("株式会社日立", "株式会社日立物流"),
        ("日立製作所", "日立"),
        ("Zinc", "Z"),
        ("Tincorp", "Tin"),
        ("Baltd", "Ba"),
        ("ABC", "ABD"),
    ],
)
def test_different_companies_stay_different(one: str, other: str) -> None:
    assert normalize_company_name(one) != normalize_company_name(other)


def test_latin_marker_inside_a_word_is_part_of_the_name() -> None:
    assert normalize_company_name("Zinc Works") == "zincworks"
    assert normalize_company_name("Co-op Kobe") == "co-opkobe"


def test_name_that_is_only_a_marker_keeps_it_rather_than_becoming_empty() -> None:
    assert normalize_company_name("株式会社") == "株式会社"
    assert normalize_company_name("  ") == ""
    assert normalize_company_name("") == ""


# --- emails ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "taro.yamada@example.co.jp",
        "Taro.Yamada@Example.CO.JP",
        "ｔａｒｏ．ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐ",
        "taro.yamada＠example.co.jp",
        "  taro.yamada@example.co.jp\u3000",
        "taro.yamada @ example.co.jp",
    ],
)
def test_email_width_case_and_spaces_do_not_matter(spelling: str) -> None:
    assert normalize_email(spelling) == "taro.yamada@example.co.jp"


def test_different_emails_stay_different() -> None:
    assert normalize_email("a@example.jp") != normalize_email("b@example.jp")


# --- domains --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        ("example.co.jp", "example.co.jp"),
        ("www.example.co.jp", "example.co.jp"),
        ("https://www.Example.co.jp/company/about?x=1", "example.co.jp"),
        ("http://example.co.jp:8080", "example.co.jp"),
        ("https://example.co.jp#top", "example.co.jp"),
        ("//example.co.jp/path", "example.co.jp"),
        ("https://example.co.jp/@taro", "example.co.jp"),
        ("https://user:secret@example.co.jp/", "example.co.jp"),
        ("taro@Sales.Example.co.jp", "sales.example.co.jp"),
        ("mailto:taro@example.co.jp", "example.co.jp"),
        ("ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏ．ｊｐ", "example.co.jp"),
        ("example.co.jp.", "example.co.jp"),
        ("", ""),
    ],
)
def test_domain_comes_from_url_email_or_bare_domain(value: str, domain: str) -> None:
    assert normalize_domain(value) == domain


# --- kana and names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["ヤマダ タロウ", "やまだ たろう", "ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ\u3000タロウ", "  やまだ   たろう "],
)
def test_kana_becomes_full_width_katakana(spelling: str) -> None:
    assert normalize_kana(spelling) == "ヤマダ タロウ"


def test_kana_keeps_voiced_and_semi_voiced_marks() -> None:
    assert normalize_kana("ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ") == "パピプペポ"
    assert normalize_kana("ゔぁいおりん") == "ヴァイオリン"
    assert normalize_kana("ｺｰﾋｰ") == "コーヒー"


def test_person_name_is_nfkc_with_single_spaces() -> None:
    assert normalize_person_name(" 山田\u3000\u3000太郎 ") == "山田 太郎"
    assert normalize_person_name("Ｔａｒｏ") == "Taro"


def test_search_text_finds_katakana_by_hiragana() -> None:
    haystack = search_text("山田太郎", "ヤマダタロウ", "taro@example.jp")
    assert "やまだ" in haystack
    assert "ヤマダ" in haystack
    assert "taro@example.jp" in haystack
    assert search_text("", "") == ""


# --- phones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "e164"),
    [
        ("03-1234-5678", "+81312345678"),
        ("0312345678", "+81312345678"),
        ("(03) 1234-5678", "+81312345678"),
        ("０３－１２３４－５６７８", "+81312345678"),
        ("０３ー１２３４ー５６７８", "+81312345678"),
        ("03−1234−5678", "+81312345678"),
        ("+81 3-1234-5678", "+81312345678"),
        ("+81-3-1234-5678", "+81312345678"),
        ("＋８１　３　１２３４　５６７８", "+81312345678"),
        ("06-6123-4567", "+81661234567"),
        ("090-1234-5678", "+819012345678"),
        ("０８０‐１２３４‐５６７８", "+818012345678"),
        ("0120-123-456", "+81120123456"),
        ("0120-444-444", "+81120444444"),
        ("050-1234-5678", "+815012345678"),
        ("+1 650-253-0000", "+16502530000"),
    ],
)
def test_phone_is_parsed_to_e164_with_japan_as_default(spelling: str, e164: str) -> None:
    assert parse_phone(spelling) == e164


def test_empty_phone_is_empty() -> None:
    assert parse_phone("") == ""
    assert parse_phone("  ") == ""


@pytest.mark.parametrize(
    "junk",
    ["abc", "電話番号", "123", "03-1234-567", "1234567890", "0000000000", "090-1234-56789012"],
)
def test_junk_phone_raises_readable_value_error(junk: str) -> None:
    with pytest.raises(ValueError, match="phone number") as info:
        parse_phone(junk)
    assert repr(junk) in str(info.value)  # the message quotes what was given


# --- prefectures ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "prefecture"),
    [
        ("東京", "東京都"),
        ("東京都", "東京都"),
        ("大阪", "大阪府"),
        ("大阪府", "大阪府"),
        ("京都", "京都府"),
        ("北海道", "北海道"),
        ("神奈川", "神奈川県"),
        ("鹿児島県", "鹿児島県"),
        (" 東京都\u3000", "東京都"),
        ("Tokyo", "東京都"),
        ("Ōsaka-fu", "大阪府"),
        ("Hyogo Prefecture", "兵庫県"),
        ("HOKKAIDO", "北海道"),
        ("", ""),
    ],
)
def test_prefecture_short_forms_become_the_full_name(spelling: str, prefecture: str) -> None:
    assert normalize_prefecture(spelling) == prefecture


@pytest.mark.parametrize("unknown", ["東京府", "北海", "ニューヨーク", "Gotham", "都"])
def test_unknown_prefecture_raises(unknown: str) -> None:
    with pytest.raises(ValueError, match="unknown prefecture"):
        normalize_prefecture(unknown)


def test_there_are_47_prefectures_each_normalising_to_itself() -> None:
    assert len(set(PREFECTURES)) == 47
    assert all(normalize_prefecture(p) == p for p in PREFECTURES)


# --- properties -----------------------------------------------------------------------------

ascii_names = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
japanese_names = st.text(
    alphabet=st.sampled_from(
        "株式会社有限合同（）()㈱㈲㍿ 　・.,-日立製作所ソニーﾄﾖﾀﾞﾊﾟあいうがABCabc０１２ＡＢＣＩｎｃ"
    ),
    max_size=30,
)
company_names = st.one_of(
    st.text(max_size=40),
    ascii_names,
    japanese_names,
    st.builds(lambda a, b: f"{a} {b}", ascii_names, st.sampled_from(["Inc.", "Co., Ltd.", "㈱"])),
)


@given(company_names)
@example("株 式会社ABC")
@example("C O.abc")
@example("e \u0301")
@example("A¨")  # NFKC turns ¨ into a space and a combining mark; dropping the space composes
def test_company_name_normalisation_is_idempotent(name: str) -> None:
    key = normalize_company_name(name)
    assert normalize_company_name(key) == key


@given(st.one_of(st.text(max_size=40), st.emails(), st.emails().map(full_width)))
@example("A\u3000 \u0301@x.jp")
def test_email_normalisation_is_idempotent(email: str) -> None:
    key = normalize_email(email)
    assert normalize_email(key) == key


kana = st.text(
    alphabet=st.characters(min_codepoint=0x3040, max_codepoint=0x30FF)
    | st.characters(min_codepoint=0xFF61, max_codepoint=0xFF9F)
    | st.sampled_from(" \u3000"),
    max_size=30,
)


@given(st.one_of(kana, st.text(max_size=30)))
@example("か゛")
@example("ｶﾞ ﾞ")
def test_kana_normalisation_is_idempotent(text: str) -> None:
    key = normalize_kana(text)
    assert normalize_kana(key) == key


@given(st.text(alphabet=st.characters(min_codepoint=0x3041, max_codepoint=0x3096), max_size=30))
def test_normalised_hiragana_is_katakana_only(text: str) -> None:
    key = normalize_kana(text)
    assert all("\u30a0" <= c <= "\u30ff" for c in key)


@given(ascii_names)
def test_full_width_company_name_normalises_like_half_width(name: str) -> None:
    assert normalize_company_name(full_width(name)) == normalize_company_name(name)


@given(st.emails())
def test_full_width_email_normalises_like_half_width(email: str) -> None:
    assert normalize_email(full_width(email)) == normalize_email(email)


@given(ascii_names)
def test_company_key_has_no_spaces_or_upper_case(name: str) -> None:
    key = normalize_company_name(name)
    assert " " not in key
    assert key == key.lower()
