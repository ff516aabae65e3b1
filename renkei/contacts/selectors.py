"""Reads of contacts and companies. The API list and the HTML list share these filters."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from renkei.contacts.models import (
    Company,
    Consent,
    Contact,
    Industry,
    LifecycleStage,
    LifecycleTransition,
)
from renkei.contacts.search import FTS_TABLE as _FTS_TABLE
from renkei.contacts.search import fts_exists
from renkei.lib.japanese import nfkc, normalize_company_name, normalize_prefecture


@dataclass
class ContactFilters:
    """Filters of the contacts list. ``owner_id=0`` means "no owner"."""

    stages: list[str] = field(default_factory=list)
    owner_id: int | None = None
    company_id: int | None = None
    score_min: int | None = None
    score_max: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    q: str = ""

    def errors(self) -> dict[str, str]:
        """Field → message for values that cannot be applied (unknown stage, min > max)."""
        found = {}
        unknown = [s for s in self.stages if s not in LifecycleStage.values]
        if unknown:
            found["stage"] = _("unknown stage %(stage)s; one of %(choices)s") % {
                "stage": ", ".join(unknown),
                "choices": ", ".join(LifecycleStage.values),
            }
        low, high = self.score_min, self.score_max
        if low is not None and high is not None and low > high:
            found["score_max"] = _("must be at least score_min")
        if self.created_from and self.created_to and self.created_from > self.created_to:
            found["created_to"] = _("must be after created_from")
        return found


def _score_between(qs: QuerySet[Contact], low: int | None, high: int | None) -> QuerySet[Contact]:
    """Contacts whose score is in [low, high]; a contact without a score row has 0."""
    if low is None and high is None:
        return qs
    in_range = Q()
    if low is not None:
        in_range &= Q(score_row__score__gte=low)
    if high is not None:
        in_range &= Q(score_row__score__lte=high)
    if (low is None or low <= 0) and (high is None or high >= 0):
        return qs.filter(in_range | Q(score_row__isnull=True))
    return qs.filter(in_range)


def contacts_filtered(filters: ContactFilters) -> QuerySet[Contact]:
    """Contacts matching the filters, newest first, with company and owner loaded."""
    qs: QuerySet[Contact] = Contact.objects.with_score().select_related("company", "owner")
    if filters.stages:
        qs = qs.filter(lifecycle_stage__in=filters.stages)
    if filters.owner_id is not None:
        qs = qs.filter(owner=None) if filters.owner_id == 0 else qs.filter(owner=filters.owner_id)
    if filters.company_id is not None:
        qs = qs.filter(company=filters.company_id)
    qs = _score_between(qs, filters.score_min, filters.score_max)
    if filters.created_from is not None:
        qs = qs.filter(created_at__gte=filters.created_from)
    if filters.created_to is not None:
        qs = qs.filter(created_at__lt=filters.created_to)
    needle = nfkc(filters.q).lower().replace(" ", "").replace("\u3000", "").replace("\x00", "")
    if needle:
        qs = _search(qs, needle)
    return qs.order_by("-id")


# ---- free-text search -----------------------------------------------------------------
#
# ``q`` is a substring search over Contact.search_text, which holds names, kana (katakana
# and hiragana), email and company name, lower-cased and NFKC'd like the needle, so
# 「やまだ」 finds ヤマダ and ＡＢＣ finds abc. The rows found are always those of
# LIKE '%needle%'; only the way there differs.
#
# PostgreSQL: a pg_trgm GIN index serves the LIKE (migration 0002).
#
# SQLite, measured at a million contacts (first page plus the list's capped count, p50):
# - LIKE alone scans newest-first and stops after a page: 4-45 ms for a common term, but
#   it reads the whole table for a rare one (335-725 ms: an exact email, a name nobody
#   has) and much of it for a middling one under another filter (115 ms for やまだ among
#   customers).
# - An FTS5 trigram index, kept in step by triggers (migration 0003), gives the rowids
#   that contain a needle of 3+ characters, and the filter becomes ``id IN (rowids)``.
#   SQLite builds that list in full, at ~0.3 µs per match per trigram of the phrase:
#   6 ms for a rare term, 11 ms for やまだ (18,000 matches), 900 ms for "example" (all).
# So a probe first counts the index's matches, stopping at SEARCH_FTS_BUDGET / trigrams
# (a few ms): below that the list is used; at it the term is common enough for LIKE to
# meet a page, and the capped count, within a few thousand rows. No match at all needs no
# further query. A needle longer than SEARCH_FTS_WINDOW characters (an email) is looked up
# by its start (else its end, when the start is common) and LIKE checks the whole needle
# on those rows, since every trigram of a phrase costs: 35 ms for a whole email's, 2 ms
# for eight characters'. Result: rare, exact-email and no-match searches 0.3-16 ms,
# common ones 9-43 ms. Still slow: a rare needle of one or two characters (no trigram:
# LIKE, ~630 ms) and a common romaji name among a small stage (tanaka among customers,
# ~70 ms, as with LIKE alone).
SEARCH_FTS_BUDGET = 60_000
SEARCH_FTS_WINDOW = 8
_FTS_ROWIDS = f"SELECT rowid FROM {_FTS_TABLE} WHERE {_FTS_TABLE} MATCH %s"  # noqa: S608
_FTS_PROBE = f"SELECT count(*) FROM ({_FTS_ROWIDS} LIMIT %s)"  # noqa: S608
_fts_seen: set[tuple[str, str]] = set()


def _search(qs: QuerySet[Contact], needle: str) -> QuerySet[Contact]:
    connection = connections[qs.db]
    if connection.vendor != "sqlite" or len(needle) < 3 or not _fts_available(connection):
        return qs.filter(search_text__contains=needle)
    windows = [needle[:SEARCH_FTS_WINDOW], needle[-SEARCH_FTS_WINDOW:]]
    for window in dict.fromkeys(windows):  # one window when the needle is short
        phrase = _fts_phrase(window)
        limit = SEARCH_FTS_BUDGET // (len(window) - 2)  # a trigram per character but two
        with connection.cursor() as cursor:
            cursor.execute(_FTS_PROBE, [phrase, limit])
            (found,) = cursor.fetchone()
        if found == 0:
            return qs.none()
        if found < limit:
            qs = qs.filter(id__in=RawSQL(_FTS_ROWIDS, [phrase]))  # noqa: S611 (a constant)
            return qs if window == needle else qs.filter(search_text__contains=needle)
    return qs.filter(search_text__contains=needle)  # common: LIKE meets a page quickly


def _fts_phrase(text: str) -> str:
    """An FTS5 phrase matching ``text`` literally: quoted, inner quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def _fts_available(connection: BaseDatabaseWrapper) -> bool:
    """Whether migration 0003 could build the FTS table (SQLite ≥ 3.34 with FTS5)."""
    key = (connection.alias, str(connection.settings_dict["NAME"]))
    if key not in _fts_seen:
        if not fts_exists(connection):
            return False
        _fts_seen.add(key)
    return True


def keyset_page(
    qs: QuerySet[Any], *, after: int | None, limit: int
) -> tuple[list[Any], int | None]:
    """One page of a newest-first queryset, and the cursor of the next page (or None).

    Keyset pagination (``id < after``) costs the same on page 1 and page 10,000, unlike
    OFFSET, which scans every skipped row.

    Two queries: the page's ids first, then those rows with their related data. The id
    query is answered from the (filter, id) indexes alone, so when the database must sort
    (a created_at or score range) it sorts ids, not joined rows: at a million contacts a
    month's range takes 20 ms this way and 400 ms as one query on SQLite.

    The second query loads the rows by id alone (with the same related data), without
    the filters again: a costly filter (the free-text search) runs once, and SQLite, which
    cannot tell that 50 ids are fewer than a subquery's rows, is not led to read them all.
    """
    if after is not None:
        qs = qs.filter(id__lt=after)
    ids = list(qs.values_list("id", flat=True)[: limit + 1])
    more = len(ids) > limit
    ids = ids[:limit]
    by_id = {row.pk: row for row in _rows_by_id(qs, ids)} if ids else {}
    rows = [by_id[pk] for pk in ids if pk in by_id]  # a row deleted meanwhile is left out
    return rows, (ids[-1] if more else None)


def _rows_by_id(qs: QuerySet[Any], ids: list[int]) -> QuerySet[Any]:
    """The rows of ``qs``'s model with these ids, ``qs``'s select_related and its score
    (the filtered querysets here prefetch nothing)."""
    rows = qs.model._default_manager.filter(id__in=ids)
    if "score_value" in qs.query.annotations:
        rows = rows.with_score()
    rows.query.select_related = qs.query.select_related
    return rows


def contact_get(pk: int) -> Contact | None:
    """One contact with its company, owner and first-touch campaign loaded, or None."""
    return (
        Contact.objects.with_score()
        .select_related("company", "owner", "first_campaign")
        .filter(pk=pk)
        .first()
    )


def contact_transitions(contact_id: int) -> QuerySet[LifecycleTransition]:
    """A contact's stage history, newest first, with the actor loaded."""
    return (
        LifecycleTransition.objects.filter(contact_id=contact_id)
        .select_related("actor")
        .order_by("-occurred_at", "-id")
    )


@dataclass
class CompanyFilters:
    """Filters of the companies list. ``owner_id=0`` means "no owner"."""

    q: str = ""
    industry: str = ""
    prefecture: str = ""
    owner_id: int | None = None

    def errors(self) -> dict[str, str]:
        """Field → message for values that cannot be applied (unknown industry, prefecture)."""
        found = {}
        if self.industry and self.industry not in Industry.values:
            found["industry"] = _("unknown industry %(value)s; one of %(choices)s") % {
                "value": repr(self.industry),
                "choices": ", ".join(Industry.values),
            }
        try:
            normalize_prefecture(self.prefecture)
        except ValueError as exc:
            found["prefecture"] = str(exc)
        return found


def companies_filtered(filters: CompanyFilters) -> QuerySet[Company]:
    """Companies matching the filters, newest first, with the owner loaded."""
    qs = Company.objects.select_related("owner")
    if filters.industry:
        qs = qs.filter(industry=filters.industry)
    if filters.prefecture:
        try:
            prefecture = normalize_prefecture(filters.prefecture)  # 東京 and Tokyo → 東京都
        except ValueError:
            prefecture = filters.prefecture
        qs = qs.filter(prefecture=prefecture)
    if filters.owner_id is not None:
        qs = qs.filter(owner=None) if filters.owner_id == 0 else qs.filter(owner=filters.owner_id)
    key = normalize_company_name(filters.q.replace("\x00", ""))
    if key:
        # lower(): the expression PostgreSQL's trigram index is built on (migration 0007);
        # the normalised name is case-folded already, so it matches the same names.
        qs = qs.alias(name_key=Lower("name_normalized")).filter(
            Q(name_key__contains=key) | Q(domain__contains=key.lower())
        )
    return qs.order_by("-id")


def company_get(pk: int) -> Company | None:
    """One company with its owner loaded, or None."""
    return Company.objects.select_related("owner").filter(pk=pk).first()


def contact_consents_latest(contact: Contact) -> list[Consent]:
    """The contact's current answer for each consent kind (the latest row of each)."""
    latest: dict[str, Consent] = {}
    for consent in Consent.objects.filter(contact=contact).order_by("-occurred_at", "-id")[:50]:
        latest.setdefault(consent.kind, consent)
    return sorted(latest.values(), key=lambda c: c.kind)
