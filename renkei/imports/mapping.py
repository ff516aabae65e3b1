"""Column mappings: what each CSV column feeds, built-in presets, suggestions, row parsing.

A mapping is a list with one *target* per column of the file: a contact field
(``email``, ``family_name`` …), a combined one split on import (``full_name``,
``full_name_kana``), a company field (``company_name`` …), ``address`` (the company's
address; its prefecture also fills the contact's and the company's prefecture), the
trade-show exchange date (``exchange_date``, 名刺交換日), a custom property
(``property:<key>``) or ``""`` (ignored).

Presets map *header names* to targets; headers are compared after NFKC, case folding and
removal of spaces, so ``E-mail`` / ``ｅ－ｍａｉｌ`` and ``Job Title`` / ``jobtitle`` match.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from renkei.contacts.services.bulk_upsert import ContactRow
from renkei.lib import japanese as ja

PROPERTY_PREFIX = "property:"
PROPERTY_KEY_MAX = 100

# (target, label, fields whose rule the column's rule sets)
_TARGETS: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("email", gettext_lazy("Email"), ()),
    ("family_name", gettext_lazy("Family name (姓)"), ("family_name",)),
    ("given_name", gettext_lazy("Given name (名)"), ("given_name",)),
    (
        "full_name",
        gettext_lazy("Full name (氏名, split on the first space)"),
        ("family_name", "given_name"),
    ),
    ("family_name_kana", gettext_lazy("Family name kana (セイ)"), ("family_name_kana",)),
    ("given_name_kana", gettext_lazy("Given name kana (メイ)"), ("given_name_kana",)),
    (
        "full_name_kana",
        gettext_lazy("Full name kana (フリガナ, split on the first space)"),
        ("family_name_kana", "given_name_kana"),
    ),
    ("department", gettext_lazy("Department"), ("department",)),
    ("title", gettext_lazy("Job title"), ("title",)),
    ("phone", gettext_lazy("Phone"), ("phone",)),
    ("prefecture", gettext_lazy("Prefecture"), ("prefecture",)),
    ("lifecycle_stage", gettext_lazy("Lifecycle stage (new contacts only)"), ()),
    ("company_name", gettext_lazy("Company name"), ("company",)),
    ("company_name_kana", gettext_lazy("Company name kana"), ()),
    ("company_domain", gettext_lazy("Company domain or website"), ("company",)),
    ("company_phone", gettext_lazy("Company phone"), ()),
    ("address", gettext_lazy("Address (company; prefecture extracted)"), ("prefecture",)),
    ("exchange_date", gettext_lazy("Exchange date (名刺交換日)"), ()),
)  # fmt: skip
TARGET_LABELS = {target: label for target, label, _fields in _TARGETS}
RULE_FIELDS = {target: fields for target, _label, fields in _TARGETS}


def target_rule_fields(target: str) -> tuple[str, ...]:
    """The fields whose rule a column with this target decides."""
    if target.startswith(PROPERTY_PREFIX):
        return (target,)
    return RULE_FIELDS.get(target, ())


def header_key(name: str) -> str:
    """How headers are compared: NFKC, case-folded, without spaces."""
    return re.sub(r"\s+", "", ja.nfkc(name).casefold())


def property_target(header: str) -> str:
    key = re.sub(r"\s+", "_", ja.nfkc(header).strip().lower())[:PROPERTY_KEY_MAX]
    return PROPERTY_PREFIX + (key or "column")


@dataclass(frozen=True)
class Preset:
    """A built-in preset: header name → target."""

    slug: str
    label: Any  # a lazy translation
    mapping: dict[str, str]


_HUBSPOT = {
    "Email": "email",
    "First Name": "given_name",
    "Last Name": "family_name",
    "Company Name": "company_name",
    "Company Domain Name": "company_domain",
    "Website URL": "company_domain",
    "Job Title": "title",
    "Department": "department",
    "Phone Number": "phone",
    "Mobile Phone Number": "property:mobile_phone",
    "State/Region": "prefecture",
    "Street Address": "address",
    "Lifecycle Stage": "lifecycle_stage",
    "Lead Status": "property:lead_status",
    "Original Source": "property:original_source",
    "Record ID": "property:hubspot_id",
}
_SALESFORCE = {
    "Email": "email",
    "First Name": "given_name",
    "Last Name": "family_name",
    "Company": "company_name",
    "Company / Account": "company_name",
    "Website": "company_domain",
    "Title": "title",
    "Department": "department",
    "Phone": "phone",
    "Mobile": "property:mobile_phone",
    "State/Province": "prefecture",
    "Street": "address",
    "Lead Source": "property:lead_source",
    "Lead Status": "property:lead_status",
    "Lead ID": "property:salesforce_id",
    # The Japanese-language Salesforce export.
    "メール": "email",
    "姓": "family_name",
    "名": "given_name",
    "会社名": "company_name",
    "Web サイト": "company_domain",
    "役職": "title",
    "部署": "department",
    "電話": "phone",
    "携帯": "property:mobile_phone",
    "都道府県": "prefecture",
    "町名・番地": "address",
    "リードソース": "property:lead_source",
    "リード状況": "property:lead_status",
    "リード ID": "property:salesforce_id",
}
_MEISHI = {
    "会社名": "company_name",
    "部署名": "department",
    "役職": "title",
    "氏名": "full_name",
    "氏名(カナ)": "full_name_kana",
    "氏名（カナ）": "full_name_kana",
    "メールアドレス": "email",
    "電話番号": "phone",
    "住所": "address",
    "名刺交換日": "exchange_date",
    "携帯電話": "property:mobile_phone",
    "URL": "company_domain",
}
BUILTIN_PRESETS: dict[str, Preset] = {
    p.slug: p
    for p in (
        Preset("hubspot", gettext_lazy("HubSpot contacts export"), _HUBSPOT),
        Preset("salesforce", gettext_lazy("Salesforce leads export"), _SALESFORCE),
        Preset("meishi", gettext_lazy("Business-card app (名刺管理)"), _MEISHI),
    )
}
# Other spellings seen in hand-made files, used when no preset matches a column.
_SYNONYMS = {
    "e-mail": "email",
    "mail": "email",
    "emailaddress": "email",
    "メールアドレス": "email",
    "eメール": "email",
    "name": "full_name",
    "名前": "full_name",
    "お名前": "full_name",
    "フリガナ": "full_name_kana",
    "ふりがな": "full_name_kana",
    "セイ": "family_name_kana",
    "メイ": "given_name_kana",
    "姓(カナ)": "family_name_kana",
    "名(カナ)": "given_name_kana",
    "会社": "company_name",
    "企業名": "company_name",
    "所属": "department",
    "部署名": "department",
    "役職名": "title",
    "電話番号": "phone",
    "tel": "phone",
    "住所": "address",
    "所在地": "address",
    "都道府県": "prefecture",
    "名刺交換日": "exchange_date",
    "交換日": "exchange_date",
}


def _keyed(mapping: dict[str, str]) -> dict[str, str]:
    return {header_key(k): v for k, v in mapping.items()}


def suggest_mapping(header: Sequence[str], preset: dict[str, str] | None) -> list[str]:
    """One target per column: the preset's, else a known synonym, else ignored."""
    chosen = _keyed(preset or {})
    fallback = _keyed({**_SYNONYMS, **_MEISHI, **_SALESFORCE, **_HUBSPOT})
    targets: list[str] = []
    for name in header:
        key = header_key(name)
        target = chosen.get(key) or fallback.get(key, "")
        targets.append(
            "" if target in targets and not target.startswith(PROPERTY_PREFIX) else target
        )
    return targets


def suggest_preset(header: Sequence[str], saved: dict[str, dict[str, str]]) -> str:
    """The preset (built-in slug or saved name) whose headers match the file best; "" if
    none matches at least two columns including the email."""
    keys = {header_key(h) for h in header}
    best, best_score = "", 1
    candidates = {slug: p.mapping for slug, p in BUILTIN_PRESETS.items()} | saved
    for name, mapping in candidates.items():
        keyed = _keyed(mapping)
        if "email" not in {keyed.get(k) for k in keys}:
            continue
        score = sum(1 for k in keys if k in keyed)
        if score > best_score:
            best, best_score = name, score
    return best


def mapping_errors(header: Sequence[str], mapping: Sequence[str]) -> dict[int, str]:
    """Per column index: what is wrong with its target (unknown, used twice). The email
    column's absence is reported under index -1."""
    errors: dict[int, str] = {}
    seen: dict[str, int] = {}
    for index, target in enumerate(mapping):
        if not target:
            continue
        if target.startswith(PROPERTY_PREFIX):
            key = target[len(PROPERTY_PREFIX) :]
            if not key.strip() or len(key) > PROPERTY_KEY_MAX:
                errors[index] = _("a custom property needs a name of 1 to %(count)d characters") % {
                    "count": PROPERTY_KEY_MAX
                }
        elif target not in TARGET_LABELS:
            errors[index] = _("unknown target %(target)s") % {"target": repr(target)}
        if target in seen:
            errors[index] = _("column %(other)s already maps to %(target)s") % {
                "other": repr(header[seen[target]]),
                "target": TARGET_LABELS.get(target, target),
            }
        seen.setdefault(target, index)
    if "email" not in seen:
        errors[-1] = _("No column is mapped to the email address; every row needs one.")
    return errors


def rules_from_columns(mapping: Sequence[str], column_rules: Sequence[str]) -> dict[str, str]:
    """Rules per field from a rule chosen per column (only non-default ones are kept)."""
    rules: dict[str, str] = {}
    for target, rule in zip(mapping, column_rules, strict=False):
        if rule and rule != "fill":
            for name in target_rule_fields(target):
                rules[name] = rule
    return rules


# ---- rows -----------------------------------------------------------------------------


@dataclass
class ParsedRow:
    """A CSV row as ``contacts_bulk_upsert`` takes it, plus what the import needs."""

    row: ContactRow
    exchange_date: date | None
    columns: dict[str, int] = field(default_factory=dict)  # field → column index
    errors: list[tuple[int, str]] = field(default_factory=list)  # (column index, message)


_SPLIT = re.compile(r"[\s\u3000]+")
_PREFECTURE_START = re.compile("^(" + "|".join(ja.PREFECTURES) + ")")
_STAGE_ALIASES = {
    "marketingqualifiedlead": "mql",
    "salesacceptedlead": "sal",
    "salesqualifiedlead": "sql",
    "evangelist": "customer",
    "購読者": "subscriber",
    "リード": "lead",
    "商談": "opportunity",
    "顧客": "customer",
}


def split_name(value: str) -> tuple[str, str]:
    """氏名 → (family, given) on the first space (half- or full-width); no space: all family."""
    parts = _SPLIT.split(value.strip(), maxsplit=1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def prefecture_of_address(address: str) -> str:
    found = _PREFECTURE_START.match(re.sub(r"^〒?\s*[0-9-]{7,8}\s*", "", ja.nfkc(address)))
    return found.group(1) if found else ""


def stage_value(value: str) -> str:
    key = header_key(value).replace("_", "").replace("-", "")
    return _STAGE_ALIASES.get(key, key)


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


@lru_cache(maxsize=4096)  # a file holds few distinct dates: parse each once
def parse_date(value: str) -> date:
    """2025-04-01, 2025/4/1, 2025年4月1日, 20250401 (full-width digits too; a time after
    the date is ignored)."""
    text = ja.nfkc(value).split(" ")[0].split("T")[0]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(_("not a date: %(value)s (write it like 2025-04-01)") % {"value": repr(value)})


def parse_row(cells: Sequence[str], mapping: Sequence[str]) -> ParsedRow:
    """Spread a row's cells over the contact, company and properties by the mapping."""
    parsed = ParsedRow(row=ContactRow(email=""), exchange_date=None)
    row = parsed.row
    for index, target in enumerate(mapping):
        value = cells[index].strip() if index < len(cells) else ""
        if target == "email":
            parsed.columns["email"] = index  # named in the "required" error of an empty cell
        if not target or not value:
            continue
        if target.startswith(PROPERTY_PREFIX):
            row.properties[target[len(PROPERTY_PREFIX) :]] = value
            parsed.columns[target] = index
        else:
            _place(parsed, target, value, index)
    for index in range(len(mapping), len(cells)):
        if cells[index].strip():
            parsed.errors.append(
                (
                    index,
                    _("this row has more cells (%(count)d) than the header")
                    % {"count": len(cells)},
                )
            )
            break
    return parsed


def _place(parsed: ParsedRow, target: str, value: str, index: int) -> None:
    row, columns = parsed.row, parsed.columns
    if target == "email":
        row.email, columns["email"] = value, index
    elif target in ("full_name", "full_name_kana"):
        suffix = "_kana" if target == "full_name_kana" else ""
        family, given = split_name(value)
        row.contact["family_name" + suffix], row.contact["given_name" + suffix] = family, given
        columns["family_name" + suffix] = columns["given_name" + suffix] = index
    elif target == "lifecycle_stage":
        row.lifecycle_stage, columns["lifecycle_stage"] = stage_value(value), index
    elif target == "exchange_date":
        try:
            parsed.exchange_date = parse_date(value)
        except ValueError as exc:
            parsed.errors.append((index, str(exc)))
    elif target == "address":
        row.company["address"], columns["company_address"] = value, index
        if prefecture := prefecture_of_address(value):
            row.company.setdefault("prefecture", prefecture)
            row.contact.setdefault("prefecture", prefecture)
            columns.setdefault("company_prefecture", index)
            columns.setdefault("prefecture", index)
    elif target.startswith("company_"):
        name = target.removeprefix("company_")
        row.company[name] = value
        columns[target] = index
    else:
        row.contact[target] = value
        columns[target] = index
