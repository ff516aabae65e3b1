"""Likely duplicate contacts and companies, found by looser keys than the ones that dedupe.

Contacts are deduplicated by normalised email and companies by domain, then normalised
name, so exact duplicates never exist. These reads find the near misses a person must
judge, each with its reason:

- ``email``: the same mailbox written two ways (see ``email_match_key``);
- ``name``: the same family and given name at the same company (names are stored NFKC
  with spaces collapsed, so width and spacing do not matter);
- ``phone``: the same phone number (E.164), unless it is the company's main number or
  shared by more than ``PHONE_GROUP_MAX`` contacts (a switchboard, 代表番号);
- ``company_name``: companies with the same normalised name (株式会社 / (株) / ㈱, width,
  spaces and Co., Ltd. ignored) but another spelling or domain;
- ``company_domain``: companies whose domains differ only by ``www.``.

Each reason is one set-based query (GROUP BY … HAVING COUNT(*) > 1, or a scan for the
few non-canonical emails), read in pages ordered by the shared key: a page is
``after=<last key>``, like the keyset pages of the lists. See ``docs/contacts.md`` for
what each costs at a million contacts.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from renkei.contacts.models import Company, Contact

CONTACT_REASONS = {
    "email": _("Same mailbox"),
    "name": _("Same name at the same company"),
    "phone": _("Same phone number"),
}
COMPANY_REASONS = {
    "company_name": _("Same company name, spelled differently"),
    "company_domain": _("Same domain but for www."),
}
REASONS = {**CONTACT_REASONS, **COMPANY_REASONS}
PHONE_GROUP_MAX = 3
GROUP_PAGE_SIZE = 20
_GMAIL = {"gmail.com", "googlemail.com"}
_T = TypeVar("_T")
_IN_BATCH = 500  # keys per IN (…): well under SQLite's limit of bound parameters


def email_match_key(email: str) -> str:
    """The mailbox an email address delivers to, for spotting one person's two addresses.

    From a normalised email (lower case, NFKC): a ``+tag`` after the local part is
    dropped (taro+expo@example.jp → taro@example.jp: most providers deliver both to
    taro); for Gmail, dots in the local part are dropped and googlemail.com is gmail.com
    (t.aro@googlemail.com → taro@gmail.com), as Gmail ignores them. Other providers'
    dots are significant and stay.
    """
    local, at, domain = email.rpartition("@")
    if not at:
        return email
    base = local.split("+", 1)[0]
    local = base or local  # "+tag@x" alone is a real mailbox name, not a tag
    if domain in _GMAIL:
        domain = "gmail.com"
        local = local.replace(".", "")
    return f"{local}@{domain}"


@dataclass
class DuplicateGroup:
    """Records that are likely one: the reason, the key they share and the records."""

    reason: str
    key: str
    members: list[Any] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "company" if self.reason in COMPANY_REASONS else "contact"

    @property
    def reason_label(self) -> str:
        return str(REASONS[self.reason])


def duplicate_groups(
    reason: str, *, after: str | None = None, limit: int = GROUP_PAGE_SIZE
) -> tuple[list[DuplicateGroup], str | None]:
    """One page of duplicate groups for a reason, ordered by key, and the next page's key.

    Members are loaded in one query for the whole page (contacts with company and owner,
    companies with their number of contacts). A group whose records were merged or deleted
    meanwhile down to one is left out.
    """
    keyed = _KEYS[reason](after, limit + 1)
    more = len(keyed) > limit
    keyed = keyed[:limit]
    ids = [pk for _key, members in keyed for pk in members]
    by_id = duplicate_records("company" if reason in COMPANY_REASONS else "contact", ids)
    groups = []
    for key, members in keyed:
        found = [by_id[pk] for pk in sorted(members) if pk in by_id]
        if len(found) > 1:
            groups.append(DuplicateGroup(reason, key, found))
    return groups, (keyed[-1][0] if more else None)


def duplicate_records(kind: str, ids: list[int]) -> dict[int, Any]:
    """Contacts (kind "contact", with company and owner) or companies (with owner and
    ``contact_count``) by id, in one query, as the duplicates pages show them."""
    rows = _companies(ids) if kind == "company" else _contacts(ids)
    return {row.pk: row for row in rows}


def _contacts(ids: list[int]) -> QuerySet[Contact]:
    return (
        Contact.objects.with_score()
        .filter(id__in=ids)
        .select_related("company", "owner")
        .defer("search_text")
    )


def _companies(ids: list[int]) -> QuerySet[Company]:
    return (
        Company.objects.filter(id__in=ids)
        .select_related("owner")
        .annotate(contact_count=Count("contacts"))
    )


# ---- keys -----------------------------------------------------------------------------
#
# Each returns up to ``limit`` (key, member ids) pairs with keys above ``after``, in key
# order. Keys are strings so one page cursor fits every reason.

Keyed = list[tuple[str, list[int]]]


def _email_keys(after: str | None, limit: int) -> Keyed:
    """Two emails share a mailbox only if at least one is not its own key (it has a +tag
    or is a Gmail address), so those few are scanned and their keys looked up among the
    stored emails through the unique index: never a GROUP BY over every contact."""
    groups: dict[str, set[int]] = defaultdict(set)
    odd = Contact.objects.filter(
        Q(email_normalized__contains="+")
        | Q(email_normalized__endswith="@gmail.com")
        | Q(email_normalized__endswith="@googlemail.com")
    ).values_list("id", "email_normalized")
    for pk, email in odd.iterator(chunk_size=5000):
        key = email_match_key(email)
        if after is None or key > after:
            groups[key].add(pk)
    # A Gmail key's every member is a Gmail address, already scanned; a +tag's key may be
    # a stored plain address, which the unique index finds.
    lookup = sorted(k for k in groups if not k.endswith("@gmail.com"))
    for batch in _batches(lookup, _IN_BATCH):
        exact = Contact.objects.filter(email_normalized__in=batch)
        for pk, email in exact.values_list("id", "email_normalized"):
            groups[email].add(pk)
    found = sorted((k, sorted(v)) for k, v in groups.items() if len(v) > 1)
    return found[:limit]


def _name_keys(after: str | None, limit: int) -> Keyed:
    """Same company, same family and given name, in (company, family, given) order.

    Names are compared as the services store them (NFKC, spaces collapsed). The columns
    themselves are grouped, not an expression over them, so the (company, family_name,
    given_name) index serves the GROUP BY in order and a page stops reading early.
    """
    named = Contact.objects.exclude(company=None).exclude(family_name="", given_name="")
    names = named.values("company_id", "family_name", "given_name")
    if after:
        names = names.filter(_after_name(after))
    grouped = (
        names.annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("company_id", "family_name", "given_name")
    )
    triples = [(r["company_id"], r["family_name"], r["given_name"]) for r in grouped[:limit]]
    members: dict[tuple[int, str, str], list[int]] = defaultdict(list)
    for batch in _batches(triples, 50):
        match = Q.create(
            [Q(company_id=c, family_name=f, given_name=g) for c, f, g in batch], connector=Q.OR
        )
        for pk, *triple in named.filter(match).values_list(
            "id", "company_id", "family_name", "given_name"
        ):
            members[tuple(triple)].append(pk)  # type: ignore[index]
    return [(json.dumps(t, ensure_ascii=False), sorted(members[t])) for t in triples]


def _after_name(after: str) -> Q:
    """Rows after a name group's key; a damaged key starts from the first page."""
    try:
        company_id, family, given = json.loads(after)
        company_id = int(company_id)
    except (ValueError, TypeError):
        return Q()
    # company_id >= … first, so the index is entered at the key rather than read from its start.
    return Q(company_id__gte=company_id) & (
        Q(company_id__gt=company_id)
        | Q(company_id=company_id, family_name__gt=family)
        | Q(company_id=company_id, family_name=family, given_name__gt=given)
    )


def _phone_keys(after: str | None, limit: int) -> Keyed:
    """The same phone on two or three contacts. Only the phone index is read to group;
    numbers that are the contacts' company's main number are dropped afterwards, from
    the page's few rows (so a page may hold fewer groups than asked)."""
    phones = Contact.objects.exclude(phone="")
    if after:
        phones = phones.filter(phone__gt=after)
    grouped = (
        phones.values("phone")
        .annotate(n=Count("id"))
        .filter(n__gt=1, n__lte=PHONE_GROUP_MAX)
        .order_by("phone")
    )
    keys = [row["phone"] for row in grouped[:limit]]
    members: dict[str, list[int]] = defaultdict(list)
    rows = Contact.objects.filter(phone__in=keys).exclude(company__phone=F("phone"))
    for pk, phone in rows.values_list("id", "phone"):
        members[phone].append(pk)
    return [(k, sorted(members[k])) for k in keys]


def _company_name_keys(after: str | None, limit: int) -> Keyed:
    """Companies sharing name_normalized: its index serves the GROUP BY in key order."""
    grouped = (
        Company.objects.values("name_normalized")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("name_normalized")
    )
    if after:
        grouped = grouped.filter(name_normalized__gt=after)
    keys = [row["name_normalized"] for row in grouped[:limit]]
    members: dict[str, list[int]] = defaultdict(list)
    same = Company.objects.filter(name_normalized__in=keys)
    for pk, key in same.values_list("id", "name_normalized"):
        members[key].append(pk)
    return [(k, sorted(members[k])) for k in keys]


def _company_domain_keys(after: str | None, limit: int) -> Keyed:
    """Domains are stored without www. (normalize_domain), so only rows written before
    that rule or around the services start with it: few, and found by a prefix match."""
    groups: dict[str, set[int]] = defaultdict(set)
    for pk, domain in Company.objects.filter(domain__startswith="www.").values_list("id", "domain"):
        key = domain.removeprefix("www.")
        if key and (after is None or key > after):
            groups[key].add(pk)
    for batch in _batches(sorted(groups), _IN_BATCH):
        for pk, domain in Company.objects.filter(domain__in=batch).values_list("id", "domain"):
            groups[domain].add(pk)
    found = sorted((k, sorted(v)) for k, v in groups.items() if len(v) > 1)
    return found[:limit]


def _batches(items: Sequence[_T], size: int) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_KEYS = {
    "email": _email_keys,
    "name": _name_keys,
    "phone": _phone_keys,
    "company_name": _company_name_keys,
    "company_domain": _company_domain_keys,
}
