"""Reads of the qualification app: the policy, the counts and flagged MQLs of its page,
one contact's qualification, the last full evaluation."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from renkei.contacts.models import Contact, LifecycleStage, LifecycleTransition
from renkei.personas.models import ContactPersona
from renkei.qualification.models import ContactQualification, QualificationPolicy, QualificationRun
from renkei.scoring.selectors import contacts_engagement_now

POLICY_ID = 1
RECENT_DAYS = 30


def qualification_policy() -> QualificationPolicy:
    """The policy: the row the data migration (and every migrate) creates; its defaults
    if it is missing for a moment (a flush before the post_migrate ensure)."""
    return QualificationPolicy.objects.filter(pk=POLICY_ID).first() or QualificationPolicy(
        pk=POLICY_ID
    )


@dataclass(frozen=True)
class QualificationCounts:
    mqls: int
    qualified_recently: int
    flagged: int


def _flagged() -> models.QuerySet[ContactQualification]:
    """Flagged rows, read through the partial index of flags alone. A flag is cleared as
    soon as its contact leaves MQL (a task queued on ``stage_changed``), so a row whose
    contact is no longer at MQL is rare and short-lived; lists skip it."""
    return ContactQualification.objects.filter(below_policy_since__isnull=False)


def qualification_counts(*, now: datetime | None = None) -> QualificationCounts:
    """Three indexed counts: MQLs (stage index), moved by the policy in the last 30 days
    (transitions' time index), flagged MQLs (the partial index of flags alone: a join
    with the contacts would let the planner walk every MQL instead)."""
    now = now or timezone.now()
    return QualificationCounts(
        mqls=Contact.objects.filter(lifecycle_stage=LifecycleStage.MQL).count(),
        qualified_recently=LifecycleTransition.objects.filter(
            occurred_at__gte=now - timedelta(days=RECENT_DAYS),
            to_stage=LifecycleStage.MQL,
            source="qualification",
        ).count(),
        flagged=_flagged().count(),
    )


@dataclass(frozen=True)
class FlaggedRow:
    contact: Contact
    below_policy_since: datetime
    qualified_at: datetime | None
    fit: int
    score_now: int


def flagged_page(
    *, after: int | None = None, limit: int = 50, now: datetime | None = None
) -> tuple[list[FlaggedRow], int | None]:
    """One page of flagged MQLs, newest contact first, and the next page's cursor (a
    contact id) or None. Three queries whatever the page size: the flags (a backwards walk
    of the partial index of flags — joined with the contacts, the planner would scan all
    of them and sort), then those contacts with their company and current fit, then their
    decayed scores."""
    flags = _flagged().order_by("-contact_id")
    if after is not None:
        flags = flags.filter(contact_id__lt=after)
    found = list(flags.values_list("contact_id", "below_policy_since", "qualified_at")[: limit + 1])
    cursor = found[limit - 1][0] if len(found) > limit else None
    found = found[:limit]
    fit = ContactPersona.objects.filter(contact_id=OuterRef("pk")).values("fit")[:1]
    contacts = {
        c.pk: c
        for c in Contact.objects.filter(
            id__in=[pk for pk, _since, _at in found], lifecycle_stage=LifecycleStage.MQL
        )
        .select_related("company")
        .annotate(fit_now=Subquery(fit))
    }
    scores = contacts_engagement_now(list(contacts), now=now)
    page = [
        FlaggedRow(
            contact=contacts[pk],
            below_policy_since=since,  # type: ignore[arg-type]  # flagged rows only
            qualified_at=qualified_at,
            fit=contacts[pk].fit_now or 0,  # type: ignore[attr-defined]
            score_now=scores.get(pk, 0),
        )
        for pk, since, qualified_at in found
        if pk in contacts  # left MQL a moment ago: its flag is being cleared
    ]
    return page, cursor


def contact_qualification(contact: Contact | int) -> ContactQualification | None:
    contact_id = contact if isinstance(contact, int) else contact.pk
    return ContactQualification.objects.filter(contact_id=contact_id).first()


def qualification_run_last() -> QualificationRun | None:
    return QualificationRun.objects.order_by("-id").first()
