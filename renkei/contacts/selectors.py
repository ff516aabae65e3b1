"""Reads of contacts and companies. The API list and the HTML list share these filters."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from renkei.contacts.models import Company, Contact, LifecycleStage
from renkei.lib.japanese import nfkc, normalize_company_name


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
    needle = nfkc(filters.q).lower().replace(" ", "").replace("\u3000", "")
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
    """
    if after is not None:
        qs = qs.filter(id__lt=after)
    rows = list(qs[: limit + 1])
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, rows[-1].pk
    return rows, None


@dataclass
class CompanyFilters:
    q: str = ""
    industry: str = ""
    prefecture: str = ""
    owner_id: int | None = None


def companies_filtered(filters: CompanyFilters) -> QuerySet[Company]:
    qs = Company.objects.select_related("owner")
    if filters.industry:
        qs = qs.filter(industry=filters.industry)
    if filters.prefecture:
        qs = qs.filter(prefecture=filters.prefecture)
    if filters.owner_id is not None:
        qs = qs.filter(owner=None) if filters.owner_id == 0 else qs.filter(owner=filters.owner_id)
    if filters.q:
        key = normalize_company_name(filters.q)
        qs = qs.filter(Q(name_normalized__contains=key) | Q(domain__contains=key.lower()))
    return qs.order_by("-id")
