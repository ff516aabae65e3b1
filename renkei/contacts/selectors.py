"""Reads of contacts and companies. The API list and the HTML list share these filters."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from renkei.contacts.models import Company, Contact, Industry, LifecycleStage, LifecycleTransition
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
            found["stage"] = f"unknown stage {', '.join(unknown)}; one of " + ", ".join(
                LifecycleStage.values
            )
        low, high = self.score_min, self.score_max
        if low is not None and high is not None and low > high:
            found["score_max"] = "must be at least score_min"
        if self.created_from and self.created_to and self.created_from > self.created_to:
            found["created_to"] = "must be after created_from"
        return found


def contacts_filtered(filters: ContactFilters) -> QuerySet[Contact]:
    """Contacts matching the filters, newest first, with company and owner loaded."""
    qs = Contact.objects.select_related("company", "owner")
    if filters.stages:
        qs = qs.filter(lifecycle_stage__in=filters.stages)
    if filters.owner_id is not None:
        qs = qs.filter(owner=None) if filters.owner_id == 0 else qs.filter(owner=filters.owner_id)
    if filters.company_id is not None:
        qs = qs.filter(company=filters.company_id)
    if filters.score_min is not None:
        qs = qs.filter(score__gte=filters.score_min)
    if filters.score_max is not None:
        qs = qs.filter(score__lte=filters.score_max)
    if filters.created_from is not None:
        qs = qs.filter(created_at__gte=filters.created_from)
    if filters.created_to is not None:
        qs = qs.filter(created_at__lt=filters.created_to)
    needle = nfkc(filters.q).lower().replace(" ", "").replace("\u3000", "").replace("\x00", "")
    if needle:
        # search_text holds names, kana (katakana and hiragana), email and company name,
        # normalised the same way, so 「やまだ」 finds ヤマダ and ＡＢＣ finds abc.
        qs = qs.filter(search_text__contains=needle)
    return qs.order_by("-id")


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
    """
    if after is not None:
        qs = qs.filter(id__lt=after)
    ids = list(qs.values_list("id", flat=True)[: limit + 1])
    more = len(ids) > limit
    ids = ids[:limit]
    by_id = {row.pk: row for row in qs.filter(id__in=ids)} if ids else {}
    rows = [by_id[pk] for pk in ids if pk in by_id]  # a row deleted meanwhile is left out
    return rows, (ids[-1] if more else None)


def contact_get(pk: int) -> Contact | None:
    """One contact with its company and owner loaded, or None."""
    return Contact.objects.select_related("company", "owner").filter(pk=pk).first()


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
            found["industry"] = f"unknown industry {self.industry!r}; one of " + ", ".join(
                Industry.values
            )
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
        qs = qs.filter(Q(name_normalized__contains=key) | Q(domain__contains=key.lower()))
    return qs.order_by("-id")


def company_get(pk: int) -> Company | None:
    """One company with its owner loaded, or None."""
    return Company.objects.select_related("owner").filter(pk=pk).first()
