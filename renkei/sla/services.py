"""Every write of the SLA app: the calendar, agreement versions and their approval, the
clocks (started on assignment, met by touches and the decision), and the breach scan.

Approval rule (like personas): a version becomes active once one user has approved it for
marketing and a different user for sales. Marketing-role users, managers and admins may
approve for marketing; only managers and admins for sales (a rep does not sign their own
team's commitments). The previous active version is retired in the same transaction.

Touches: call, meeting and email_sent events of the contact count, whoever logged them (an
API integration may log a rep's calls without naming the rep), from the moment of the
assignment on. The first one meets ``first_touch``; the K-th meets ``attempts``. The
``decision`` clock is met when the contact leaves MQL; rejection into recycled or
disqualified also closes the touch clocks (nobody must call a rejected lead).
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from renkei.accounts.approval import MARKETING_SIDE, SALES_SIDE, approval_side_check
from renkei.accounts.roles import ADMIN, MANAGER, MARKETING
from renkei.accounts.services import Actor, audit_record
from renkei.contacts.models import LifecycleStage
from renkei.events.models import Event
from renkei.sla.calendar import (
    CalendarSpec,
    business_add,
)

# The clocks' start lives in its own module (routing's hot path); it is a service too.
from renkei.sla.clocks import Assignment as Assignment
from renkei.sla.clocks import sla_clocks_start as sla_clocks_start
from renkei.sla.models import (
    CALENDAR_ID,
    BusinessCalendar,
    ClockKind,
    CloseReason,
    CompanyHoliday,
    SlaAgreement,
    SlaBreach,
    SlaClock,
    SlaPeriod,
    SlaStatus,
)
from renkei.sla.signals import sla_breached

SIDE_ROLES = {MARKETING_SIDE: (MARKETING, MANAGER, ADMIN), SALES_SIDE: (MANAGER, ADMIN)}
TOUCH_TYPES = ("call", "meeting", "email_sent")
TOUCH_LABELS = {
    "call": _lazy("Call"),
    "meeting": _lazy("Meeting"),
    "email_sent": _lazy("Email sent"),
}
REJECTED_STAGES = (LifecycleStage.RECYCLED, LifecycleStage.DISQUALIFIED)
SCAN_BATCH = 10_000


def _user_id(actor: Actor) -> int | None:
    return actor.pk if actor is not None and actor.is_authenticated else None


# --- the business calendar -------------------------------------------------------------


def _calendar_locked() -> BusinessCalendar:
    calendar, _created = BusinessCalendar.objects.select_for_update().get_or_create(pk=CALENDAR_ID)
    return calendar


def _check_working_time(spec: CalendarSpec, field: str) -> None:
    if not spec.has_working_time():
        raise ValidationError({field: _("The calendar needs working hours on at least one day.")})
    try:
        business_add(spec, timezone.now(), 1)
    except ValueError:
        raise ValidationError(
            {field: _("With these days off the calendar has no working time left.")}
        ) from None


@transaction.atomic
def calendar_update(
    *,
    name: str,
    time_zone: str,
    hours: dict[int, tuple[tuple[int, int], ...]],
    public_holidays: bool,
    actor: Actor,
) -> BusinessCalendar:
    """Change the calendar. Running clocks keep their deadlines; new clocks use it."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the calendar a name.")})
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError({"time_zone": _("Unknown time zone.")}) from None
    calendar = _calendar_locked()
    stored = {str(day): [list(w) for w in windows] for day, windows in hours.items() if windows}
    before = {"time_zone": calendar.time_zone, "hours": calendar.hours}
    calendar.name, calendar.time_zone, calendar.hours = name, time_zone, stored
    calendar.public_holidays = public_holidays
    _check_working_time(calendar.spec(list(calendar.company_holidays.all())), "hours")
    calendar.save()
    audit_record(
        actor=actor,
        action="sla.calendar_update",
        object_type="businesscalendar",
        object_id=calendar.pk,
        changes={
            "before": before,
            "after": {"time_zone": time_zone, "hours": stored, "public_holidays": public_holidays},
        },
    )
    return calendar


@transaction.atomic
def company_holiday_add(
    *, name: str, start: date, end: date, every_year: bool, actor: Actor
) -> CompanyHoliday:
    """A company day-off range. Every year: month and day repeat, and the range may wrap
    over the new year (12/29–1/3)."""
    name = name.strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Give the holiday a name.")
    if not every_year and end < start:
        errors["end"] = _("The last day must not be before the first day.")
    if not every_year and (end - start).days > 366:
        errors["end"] = _("A company holiday lasts at most a year.")
    if errors:
        raise ValidationError(errors)
    calendar = _calendar_locked()
    holidays = list(calendar.company_holidays.all())
    holiday = CompanyHoliday(
        calendar=calendar, name=name, start=start, end=end, every_year=every_year
    )
    _check_working_time(calendar.spec([*holidays, holiday]), "end")
    holiday.save()
    audit_record(
        actor=actor,
        action="sla.holiday_add",
        object_type="companyholiday",
        object_id=holiday.pk,
        changes={"name": name, "start": str(start), "end": str(end), "every_year": every_year},
    )
    return holiday


@transaction.atomic
def company_holiday_delete(*, holiday: CompanyHoliday, actor: Actor) -> None:
    audit_record(
        actor=actor,
        action="sla.holiday_delete",
        object_type="companyholiday",
        object_id=holiday.pk,
        changes={"name": holiday.name, "start": str(holiday.start), "end": str(holiday.end)},
    )
    holiday.delete()


# --- agreement versions ----------------------------------------------------------------

TERM_FIELDS = (
    "period",
    "mql_commitment",
    "min_acceptance_rate",
    "persona_commitments",
    "first_touch_hours",
    "attempts_required",
    "attempts_days",
    "decision_hours",
    "notes",
)


def _int(value: Any, field: str, low: int, high: int, errors: dict[str, str]) -> int:
    try:
        if isinstance(value, bool | float):
            raise ValueError
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors[field] = _("Enter a whole number.")
        return 0
    if not low <= number <= high:
        errors[field] = _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}
    return number


def _hours(value: Any, field: str, errors: dict[str, str]) -> Decimal:
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[field] = _("Enter a number of business hours.")
        return Decimal(0)
    if not hours.is_finite() or hours <= 0:
        errors[field] = _("The time must be more than zero business hours.")
    elif hours > 2000:
        errors[field] = _("At most 2000 business hours.")
    elif hours != hours.quantize(Decimal("0.01")):
        errors[field] = _("At most two decimal places.")
    return hours


def terms_validate(terms: dict[str, Any]) -> dict[str, Any]:
    """Clean SLA terms; a ValidationError names each impossible field."""
    from renkei.personas.models import Persona

    errors: dict[str, str] = {}
    clean: dict[str, Any] = {"notes": str(terms.get("notes") or "")}
    period = terms.get("period")
    if period not in SlaPeriod.values:
        errors["period"] = _("Choose month or week.")
    clean["period"] = period
    clean["mql_commitment"] = _int(
        terms.get("mql_commitment"), "mql_commitment", 1, 1_000_000, errors
    )
    clean["min_acceptance_rate"] = _int(
        terms.get("min_acceptance_rate"), "min_acceptance_rate", 0, 100, errors
    )
    clean["first_touch_hours"] = _hours(terms.get("first_touch_hours"), "first_touch_hours", errors)
    clean["decision_hours"] = _hours(terms.get("decision_hours"), "decision_hours", errors)
    clean["attempts_required"] = _int(
        terms.get("attempts_required"), "attempts_required", 1, 100, errors
    )
    clean["attempts_days"] = _int(terms.get("attempts_days"), "attempts_days", 1, 365, errors)
    personas = []
    seen: set[int] = set()
    for item in terms.get("persona_commitments") or []:
        persona_id = item.get("persona") if isinstance(item, dict) else None
        if not isinstance(persona_id, int) or persona_id in seen:
            errors["persona_commitments"] = _("Name each persona once.")
            continue
        seen.add(persona_id)
        sub: dict[str, str] = {}
        mqls = _int(item.get("mqls"), "mqls", 1, 1_000_000, sub)
        rate = _int(item.get("min_acceptance_rate", 0), "rate", 0, 100, sub)
        if sub:
            errors["persona_commitments"] = _(
                "Each persona needs MQLs of at least 1 and a rate from 0 to 100."
            )
        personas.append({"persona": persona_id, "mqls": mqls, "min_acceptance_rate": rate})
    if seen and Persona.objects.filter(pk__in=seen).count() != len(seen):
        errors["persona_commitments"] = _("Unknown persona.")
    clean["persona_commitments"] = personas
    if errors:
        raise ValidationError(errors)
    return clean


def _state(agreement: SlaAgreement) -> dict[str, Any]:
    return {f: str(getattr(agreement, f)) for f in TERM_FIELDS if f != "persona_commitments"} | {
        "persona_commitments": agreement.persona_commitments,
        "status": agreement.status,
    }


@transaction.atomic
def agreement_create(*, terms: dict[str, Any], actor: Actor) -> SlaAgreement:
    """A new draft version (the active one stays active until this one is approved)."""
    clean = terms_validate(terms)
    # Serialise version numbers on the calendar row (always present).
    _calendar_locked()
    number = (SlaAgreement.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    agreement = SlaAgreement.objects.create(number=number, created_by_id=_user_id(actor), **clean)
    audit_record(
        actor=actor,
        action="sla.version_create",
        object_type="slaagreement",
        object_id=agreement.pk,
        changes=_state(agreement),
    )
    return agreement


def _locked_draft(agreement: SlaAgreement) -> SlaAgreement:
    locked = SlaAgreement.objects.select_for_update().get(pk=agreement.pk)
    if locked.status != SlaStatus.DRAFT:
        raise ValidationError(_("Only a draft version can be changed or approved."))
    return locked


@transaction.atomic
def agreement_update(
    *, agreement: SlaAgreement, terms: dict[str, Any], actor: Actor
) -> SlaAgreement:
    """Edit a draft; approvals already given are withdrawn (they approved other terms)."""
    clean = terms_validate(terms)
    locked = _locked_draft(agreement)
    before = _state(locked)
    for key, value in clean.items():
        setattr(locked, key, value)
    locked.approved_by_marketing = locked.approved_by_sales = None
    locked.save()
    after = _state(locked)
    audit_record(
        actor=actor,
        action="sla.version_update",
        object_type="slaagreement",
        object_id=locked.pk,
        changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
    )
    return locked


def _check_side(agreement: SlaAgreement, side: str, actor: Actor) -> None:
    approval_side_check(
        side=side,
        actor=actor,
        side_roles=SIDE_ROLES,
        approved_by_marketing_id=agreement.approved_by_marketing_id,
        approved_by_sales_id=agreement.approved_by_sales_id,
    )


@transaction.atomic
def agreement_approve(*, agreement: SlaAgreement, side: str, actor: Actor) -> SlaAgreement:
    """Approve one side; with both sides it becomes the active version and the previous
    one is retired. Clocks already running keep the terms they started with."""
    locked = _locked_draft(agreement)
    _check_side(locked, side, actor)
    setattr(locked, f"approved_by_{side}_id", _user_id(actor))
    changes: dict[str, Any] = {"side": side}
    if locked.approved_by_marketing_id and locked.approved_by_sales_id:
        now = timezone.now()
        for old in SlaAgreement.objects.select_for_update().filter(status=SlaStatus.APPROVED):
            old.status, old.retired_at = SlaStatus.RETIRED, now
            old.save(update_fields=["status", "retired_at"])
            audit_record(
                actor=actor,
                action="sla.version_retire",
                object_type="slaagreement",
                object_id=old.pk,
                changes={"replaced_by": locked.number},
            )
        locked.status, locked.approved_at = SlaStatus.APPROVED, now
        changes["status"] = SlaStatus.APPROVED
    locked.save()
    audit_record(
        actor=actor,
        action="sla.version_approve",
        object_type="slaagreement",
        object_id=locked.pk,
        changes=changes,
    )
    return locked


@transaction.atomic
def agreement_retire(*, agreement: SlaAgreement, actor: Actor) -> SlaAgreement:
    """Retire a draft or the active version (no new clocks start without an active one)."""
    locked = SlaAgreement.objects.select_for_update().get(pk=agreement.pk)
    if locked.status == SlaStatus.RETIRED:
        raise ValidationError(_("This version is already retired."))
    locked.status, locked.retired_at = SlaStatus.RETIRED, timezone.now()
    locked.save(update_fields=["status", "retired_at"])
    audit_record(
        actor=actor,
        action="sla.version_retire",
        object_type="slaagreement",
        object_id=locked.pk,
        changes={},
    )
    return locked


# --- clocks ----------------------------------------------------------------------------


def sla_touches_refresh(contact_ids: Iterable[int]) -> int:
    """Count touches on the unmet first-touch and attempts clocks of these contacts and
    mark those now met. Two reads and at most one write; safe to repeat.
    Returns the number of clocks changed."""
    ids = list({int(i) for i in contact_ids})
    if not ids:
        return 0
    clocks = list(
        SlaClock.objects.filter(
            contact_id__in=ids,
            kind__in=(ClockKind.FIRST_TOUCH, ClockKind.ATTEMPTS),
            met_at__isnull=True,
            closed_at__isnull=True,
        ).only("id", "contact_id", "kind", "started_at", "attempts_required", "attempts_count")
    )
    if not clocks:
        return 0
    earliest = min(c.started_at for c in clocks)
    touches: dict[int, list[datetime]] = defaultdict(list)
    rows = Event.objects.filter(
        contact_id__in={c.contact_id for c in clocks},
        type__in=TOUCH_TYPES,
        occurred_at__gte=earliest,
    ).values_list("contact_id", "occurred_at")
    for contact_id, occurred_at in rows:
        touches[contact_id].append(occurred_at)
    now = timezone.now()
    changed = []
    for clock in clocks:
        times = sorted(t for t in touches[clock.contact_id] if clock.started_at <= t <= now)
        need = 1 if clock.kind == ClockKind.FIRST_TOUCH else clock.attempts_required
        count = min(len(times), 32767)
        met = times[need - 1] if len(times) >= need else None
        if count != clock.attempts_count or met is not None:
            clock.attempts_count, clock.met_at = count, met
            changed.append(clock)
    if changed:
        SlaClock.objects.bulk_update(changed, ["attempts_count", "met_at"], batch_size=1000)
    return len(changed)


def sla_decision_record(*, contact_id: int, at: datetime | None = None) -> int:
    """Meet the contact's unmet decision clock (the contact left MQL, or handoff recorded
    a rejection that keeps the stage). Returns the number of clocks met."""
    return SlaClock.objects.filter(
        contact_id=contact_id,
        kind=ClockKind.DECISION,
        met_at__isnull=True,
        closed_at__isnull=True,
    ).update(met_at=at or timezone.now())


STAGE_CHUNK = 1000  # contacts per UPDATE: under SQLite's parameter limit


def sla_stages_changed(changes: Iterable[tuple[int, str, str]]) -> None:
    """Follow stage moves (contact id, from stage, to stage): leaving MQL meets the
    decision clock; a rejection (recycled, disqualified) also closes the touch clocks
    still unmet. At most two UPDATEs per 1,000 contacts, however many moved."""
    changes = list(changes)
    left_mql = sorted({c for c, from_stage, _to in changes if from_stage == LifecycleStage.MQL})
    rejected = sorted({c for c, _from, to_stage in changes if to_stage in REJECTED_STAGES})
    if not left_mql and not rejected:
        return
    now = timezone.now()
    for start in range(0, len(left_mql), STAGE_CHUNK):
        SlaClock.objects.filter(
            contact_id__in=left_mql[start : start + STAGE_CHUNK],
            kind=ClockKind.DECISION,
            met_at__isnull=True,
            closed_at__isnull=True,
        ).update(met_at=now)
    for start in range(0, len(rejected), STAGE_CHUNK):
        SlaClock.objects.filter(
            contact_id__in=rejected[start : start + STAGE_CHUNK],
            met_at__isnull=True,
            closed_at__isnull=True,
        ).update(closed_at=now, closed_reason=CloseReason.REJECTED)


# --- the breach scan -------------------------------------------------------------------


def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        parsed = parse_datetime(str(value))
        if parsed is None:  # pragma: no cover
            raise ValueError(f"not a datetime: {value!r}")
        moment = parsed
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment


def _breach_batch(now: datetime, limit: int) -> list[SlaBreach]:
    table = SlaClock._meta.db_table
    open_sql = "met_at IS NULL AND breached_at IS NULL AND closed_at IS NULL"
    at = connection.ops.adapt_datetimefield_value(now)
    # One statement; its subquery walks the partial index of open clocks by deadline.
    if connection.vendor == "postgresql":
        # ARRAY(…) runs once and the UPDATE finds its rows by primary key (no other
        # condition, so no other index can tempt the planner). FOR UPDATE re-checks the
        # condition on rows another scan just changed, and SKIP LOCKED lets two scans share.
        sql = (
            f"UPDATE {table} SET breached_at = %s WHERE id = ANY(ARRAY("  # noqa: S608
            f"SELECT id FROM {table} WHERE due_at <= %s AND {open_sql}"
            " ORDER BY due_at LIMIT %s FOR UPDATE SKIP LOCKED))"
            " RETURNING id, contact_id, user_id, kind, due_at"
        )
    else:
        # SQLite runs one writer at a time; the repeated condition is cheap (rowid lookups).
        sql = (
            f"UPDATE {table} SET breached_at = %s WHERE id IN ("  # noqa: S608
            f"SELECT id FROM {table} WHERE due_at <= %s AND {open_sql}"
            f" ORDER BY due_at LIMIT %s) AND {open_sql}"
            " RETURNING id, contact_id, user_id, kind, due_at"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [at, at, limit])
        rows = cursor.fetchall()
    breaches = [
        SlaBreach(
            clock_id=clock_id,
            contact_id=contact_id,
            user_id=user_id,
            kind=kind,
            due_at=_aware(due_at),
            found_at=now,
        )
        for clock_id, contact_id, user_id, kind, due_at in rows
    ]
    return SlaBreach.objects.bulk_create(breaches, batch_size=2000)


def sla_breaches_scan(now: datetime | None = None, batch: int = SCAN_BATCH) -> int:
    """Find the open clocks past due, mark them breached and record a breach for each;
    ``sla_breached`` is sent for each after commit. Only newly breached clocks are read
    or written. Returns the number of breaches recorded."""
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            breaches = _breach_batch(now, batch)
            if breaches:
                payload = [
                    {
                        "breach_id": b.pk,
                        "clock_id": b.clock_id,
                        "contact_id": b.contact_id,
                        "user_id": b.user_id,
                        "kind": b.kind,
                        "due_at": b.due_at,
                    }
                    for b in breaches
                ]
                transaction.on_commit(lambda p=payload: _send_breached(p))  # type: ignore[misc]
        total += len(breaches)
        if len(breaches) < batch:
            return total


def _send_breached(payload: list[dict[str, Any]]) -> None:
    # The breaches are committed; the receivers' own writes (queued notifications) share
    # one transaction instead of committing once per breach.
    with transaction.atomic():
        for item in payload:
            sla_breached.send(sender=SlaBreach, **item)
