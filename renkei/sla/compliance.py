"""SLA compliance for managers: both sides of the agreement, per rep and per period, with
a weekly trend. Each table is one grouped query (clocks; lifecycle transitions).

Sales side: of the clocks started in the period, the share met on time (met, never
breached) among those decided (met on time or breached), and the breaches, per rep and
kind. Marketing side: MQLs delivered (transitions into MQL) against the commitment, and
the acceptance rate: MQL→SAL against MQL→SAL + MQL→recycled/disqualified.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import TruncWeek

from renkei.contacts.models import LifecycleStage, LifecycleTransition
from renkei.personas.models import ContactPersona, Persona
from renkei.sla.models import OPEN, ClockKind, SlaAgreement, SlaClock, SlaPeriod
from renkei.sla.selectors import agreement_active, calendar_get

MQL, SAL = LifecycleStage.MQL, LifecycleStage.SAL
REJECTED = (LifecycleStage.RECYCLED, LifecycleStage.DISQUALIFIED)
ON_TIME = Q(met_at__isnull=False, breached_at__isnull=True)
WEEKS_PER_MONTH = 52 / 12
TREND_WEEKS = 12


def _pct(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


@dataclass
class KindFigures:
    started: int = 0
    on_time: int = 0
    breached: int = 0
    open: int = 0

    @property
    def share(self) -> int | None:
        return _pct(self.on_time, self.on_time + self.breached)


@dataclass
class RepRow:
    user_id: int | None
    name: str
    team: str = ""
    kinds: dict[str, KindFigures] = field(default_factory=dict)

    @property
    def breaches(self) -> int:
        return sum(k.breached for k in self.kinds.values())

    def cells(self) -> list[KindFigures]:
        return [self.kinds.get(k, KindFigures()) for k in ClockKind.values]


def period_bounds(period: str, offset: int, tz: Any, today: date) -> tuple[datetime, datetime]:
    """[start, end) of the current period (offset 0) or an earlier one, local midnight."""
    if period == SlaPeriod.WEEK:
        first = today - timedelta(days=today.weekday()) - timedelta(weeks=offset)
        last = first + timedelta(weeks=1)
    else:
        month = today.year * 12 + today.month - 1 - offset
        first = date(month // 12, month % 12 + 1, 1)
        month += 1
        last = date(month // 12, month % 12 + 1, 1)
    return (
        datetime.combine(first, time(0), tzinfo=tz),
        datetime.combine(last, time(0), tzinfo=tz),
    )


def _commitment(agreement: SlaAgreement | None, period: str, mqls: int | None = None) -> float:
    if agreement is None:
        return 0
    value = float(agreement.mql_commitment if mqls is None else mqls)
    if agreement.period == period:
        return value
    if agreement.period == SlaPeriod.MONTH:  # a monthly commitment seen per week
        return value / WEEKS_PER_MONTH
    return value * WEEKS_PER_MONTH


def sales_by_rep(start: datetime, end: datetime) -> list[RepRow]:
    """Per rep, with the rep's team (renkei.handoff's rep settings) in the same query."""
    rows = (
        SlaClock.objects.filter(started_at__gte=start, started_at__lt=end)
        .values("user_id", "kind", team=F("user__rep_settings__team__name"))
        .annotate(
            started=Count("id"),
            on_time=Count("id", filter=ON_TIME),
            breached=Count("id", filter=Q(breached_at__isnull=False)),
            open=Count("id", filter=OPEN),
        )
        .order_by()
    )
    reps: dict[int, RepRow] = {}
    for row in rows:
        rep = reps.setdefault(row["user_id"], RepRow(row["user_id"], "", row["team"] or ""))
        rep.kinds[row["kind"]] = KindFigures(
            row["started"], row["on_time"], row["breached"], row["open"]
        )
    users = get_user_model().objects.filter(pk__in=reps)
    for user in users:
        reps[user.pk].name = user.get_full_name() or user.get_username()
    return sorted(reps.values(), key=lambda r: (r.team, r.name))


def sales_by_team(reps: list[RepRow]) -> list[RepRow]:
    """The rep rows summed per team (no query); reps without a team form one row."""
    teams: dict[str, RepRow] = {}
    for rep in reps:
        team = teams.setdefault(rep.team, RepRow(None, rep.team))
        for kind, figures in rep.kinds.items():
            total = team.kinds.setdefault(kind, KindFigures())
            total.started += figures.started
            total.on_time += figures.on_time
            total.breached += figures.breached
            total.open += figures.open
    return sorted(teams.values(), key=lambda t: (t.name == "", t.name))


@dataclass
class MarketingFigures:
    delivered: int = 0
    accepted: int = 0
    rejected: int = 0
    committed: float = 0
    min_rate: int = 0

    @property
    def rate(self) -> int | None:
        return _pct(self.accepted, self.accepted + self.rejected)

    @property
    def volume_met(self) -> bool:
        return self.delivered >= self.committed

    @property
    def rate_met(self) -> bool | None:
        return None if self.rate is None else self.rate >= self.min_rate


def _transitions(start: datetime, end: datetime) -> Any:
    return LifecycleTransition.objects.filter(occurred_at__gte=start, occurred_at__lt=end).filter(
        Q(to_stage=MQL) | Q(from_stage=MQL, to_stage__in=[SAL, *REJECTED])
    )


def _add(figures: MarketingFigures, from_stage: str, to_stage: str, n: int) -> None:
    if to_stage == MQL:
        figures.delivered += n
    elif from_stage == MQL and to_stage == SAL:
        figures.accepted += n
    elif from_stage == MQL:
        figures.rejected += n


def marketing_totals(
    start: datetime, end: datetime, agreement: SlaAgreement | None, period: str
) -> MarketingFigures:
    figures = MarketingFigures(
        committed=round(_commitment(agreement, period), 1),
        min_rate=agreement.min_acceptance_rate if agreement else 0,
    )
    rows = _transitions(start, end).values("from_stage", "to_stage").annotate(n=Count("id"))
    for row in rows.order_by():
        _add(figures, row["from_stage"], row["to_stage"], row["n"])
    return figures


def marketing_by_persona(
    start: datetime, end: datetime, agreement: SlaAgreement | None, period: str
) -> list[tuple[str, MarketingFigures]]:
    """Per persona with a commitment; the persona is the contact's best persona now."""
    if agreement is None or not agreement.persona_commitments:
        return []
    terms = {c["persona"]: c for c in agreement.persona_commitments}
    persona = ContactPersona.objects.filter(contact_id=OuterRef("contact_id")).values(
        "version__persona_id"
    )[:1]
    rows = (
        _transitions(start, end)
        .annotate(persona=Subquery(persona))
        .filter(persona__in=list(terms))
        .values("persona", "from_stage", "to_stage")
        .annotate(n=Count("id"))
        .order_by()
    )
    figures = {
        pk: MarketingFigures(
            committed=round(_commitment(agreement, period, c["mqls"]), 1),
            min_rate=c["min_acceptance_rate"],
        )
        for pk, c in terms.items()
    }
    for row in rows:
        _add(figures[row["persona"]], row["from_stage"], row["to_stage"], row["n"])
    names = dict(Persona.objects.filter(pk__in=list(terms)).values_list("pk", "name"))
    return [(names.get(pk, "?"), f) for pk, f in figures.items()]


@dataclass
class Week:
    start: date
    delivered: int = 0
    accepted: int = 0
    rejected: int = 0
    on_time: int = 0
    breached: int = 0

    @property
    def acceptance(self) -> int | None:
        return _pct(self.accepted, self.accepted + self.rejected)

    @property
    def sales_share(self) -> int | None:
        return _pct(self.on_time, self.on_time + self.breached)


def weekly_trend(tz: Any, today: date, weeks: int = TREND_WEEKS) -> list[Week]:
    """The last ``weeks`` weeks (Monday to Sunday, local), oldest first: one grouped query
    on clocks and one on transitions."""
    first, _end = period_bounds(SlaPeriod.WEEK, weeks - 1, tz, today)
    end = first + timedelta(weeks=weeks)
    by_start = {
        (first + timedelta(weeks=i)).date(): Week((first + timedelta(weeks=i)).date())
        for i in range(weeks)
    }
    clocks = (
        SlaClock.objects.filter(started_at__gte=first, started_at__lt=end)
        .annotate(week=TruncWeek("started_at", tzinfo=tz))
        .values("week")
        .annotate(
            on_time=Count("id", filter=ON_TIME),
            breached=Count("id", filter=Q(breached_at__isnull=False)),
        )
        .order_by()
    )
    for row in clocks:
        week = by_start.get(_local_date(row["week"], tz))
        if week:
            week.on_time, week.breached = row["on_time"], row["breached"]
    transitions = (
        _transitions(first, end)
        .annotate(week=TruncWeek("occurred_at", tzinfo=tz))
        .values("week", "from_stage", "to_stage")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in transitions:
        week = by_start.get(_local_date(row["week"], tz))
        if week is None:
            continue
        if row["to_stage"] == MQL:
            week.delivered += row["n"]
        elif row["to_stage"] == SAL:
            week.accepted += row["n"]
        else:
            week.rejected += row["n"]
    return list(by_start.values())


def _local_date(value: Any, tz: Any) -> date:
    if isinstance(value, datetime):
        return value.astimezone(tz).date() if value.tzinfo else value.date()
    return value


def trend_charts(weeks: list[Week], weekly_commitment: float, min_rate: int) -> dict[str, Any]:
    """Coordinates for two inline SVG charts (600×160 plot): MQLs per week as bars with
    the commitment as a dashed line; acceptance and on-time shares as lines (0–100 %)."""
    width, height, pad = 600, 160, 30
    n = max(len(weeks), 1)
    step = (width - pad) / n
    top = max([w.delivered for w in weeks] + [weekly_commitment, 1])

    def y(value: float, scale: float) -> float:
        return round(height - value / scale * (height - 10), 1)

    bars = [
        {
            "x": round(pad + i * step + step * 0.15, 1),
            "y": y(w.delivered, top),
            "w": round(step * 0.7, 1),
            "h": round(height - y(w.delivered, top), 1),
            "label": w.start.strftime("%m/%d"),
            "value": w.delivered,
            "tx": round(pad + i * step + step / 2, 1),
        }
        for i, w in enumerate(weeks)
    ]

    def line(values: list[int | None]) -> str:
        return " ".join(
            f"{round(pad + i * step + step / 2, 1)},{y(v, 100)}"
            for i, v in enumerate(values)
            if v is not None
        )

    return {
        "width": width,
        "height": height,
        "pad": pad,
        "bars": bars,
        "top": top,
        "commitment_y": y(weekly_commitment, top) if weekly_commitment else None,
        "acceptance": line([w.acceptance for w in weeks]),
        "sales": line([w.sales_share for w in weeks]),
        "min_rate_y": y(min_rate, 100),
        "y50": y(50, 100),
        "y100": y(100, 100),
    }


def compliance_report(*, period: str, offset: int, today: date | None = None) -> dict[str, Any]:
    calendar = calendar_get()
    tz = calendar.spec([]).tz
    today = today or datetime.now(tz).date()
    start, end = period_bounds(period, offset, tz, today)
    agreement = agreement_active()
    weeks = weekly_trend(tz, today)
    reps = sales_by_rep(start, end)
    return {
        "agreement": agreement,
        "period": period,
        "offset": offset,
        "start": start,
        "end": end - timedelta(days=1),
        "reps": reps,
        "teams": sales_by_team(reps),
        "marketing": marketing_totals(start, end, agreement, period),
        "personas": marketing_by_persona(start, end, agreement, period),
        "weeks": weeks,
        "chart": trend_charts(
            weeks,
            _commitment(agreement, SlaPeriod.WEEK),
            agreement.min_acceptance_rate if agreement else 0,
        ),
    }
