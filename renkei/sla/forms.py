"""Forms of the SLA pages: the calendar (working hours as text per weekday), company
holidays, and an agreement version (commitments per persona as text, one per line)."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from renkei.accounts.forms import StyledForm
from renkei.personas.models import Persona
from renkei.sla.calendar import windows_format, windows_parse
from renkei.sla.models import WEEKDAYS, BusinessCalendar, SlaAgreement, SlaPeriod

WEEKDAY_LABELS = {
    "mon": _("Monday"),
    "tue": _("Tuesday"),
    "wed": _("Wednesday"),
    "thu": _("Thursday"),
    "fri": _("Friday"),
    "sat": _("Saturday"),
    "sun": _("Sunday"),
}
HOURS_HELP = _("For example 9:00-12:00, 13:00-18:00 (lunch break 12–13). Empty: a day off.")


class CalendarForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, initial="Asia/Tokyo")
    public_holidays = forms.BooleanField(
        label=_("Japanese public holidays (incl. substitute holidays) are days off"),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day in WEEKDAYS:
            self.fields[day] = forms.CharField(
                label=WEEKDAY_LABELS[day], required=False, max_length=200, help_text=HOURS_HELP
            )
        for field in self.fields.values():  # styled again: the weekday fields are new
            if not isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-control form-control-sm")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hours: dict[int, tuple[tuple[int, int], ...]] = {}
        for number, day in enumerate(WEEKDAYS):
            try:
                hours[number] = windows_parse(data.get(day) or "")
            except ValueError as error:
                self.add_error(day, str(error))
        data["hours"] = hours
        return data

    @staticmethod
    def initial_for(calendar: BusinessCalendar) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": calendar.name,
            "time_zone": calendar.time_zone,
            "public_holidays": calendar.public_holidays,
        }
        for number, day in enumerate(WEEKDAYS):
            initial[day] = windows_format(calendar.hours.get(str(number), []))
        return initial


class HolidayForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    start = forms.DateField(label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Last day"), widget=forms.DateInput(attrs={"type": "date"}))
    every_year = forms.BooleanField(
        label=_("Every year (same month and day; may span the new year)"),
        required=False,
        initial=True,
    )


PERSONA_HELP = _(
    "Optional, one per line: persona name | MQLs per period | minimum acceptance rate (%)."
)


class AgreementForm(StyledForm):
    period = forms.ChoiceField(label=_("Period"), choices=SlaPeriod.choices)
    mql_commitment = forms.IntegerField(label=_("MQLs per period (marketing)"))
    min_acceptance_rate = forms.IntegerField(label=_("Minimum acceptance rate (%)"))
    persona_text = forms.CharField(
        label=_("Commitments per persona"),
        required=False,
        help_text=PERSONA_HELP,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    first_touch_hours = forms.DecimalField(
        label=_("First touch within (business hours)"), max_digits=6, decimal_places=2
    )
    attempts_required = forms.IntegerField(label=_("At least this many attempts"))
    attempts_days = forms.IntegerField(label=_("Attempts within (business days)"))
    decision_hours = forms.DecimalField(
        label=_("Accept or reject within (business hours)"), max_digits=6, decimal_places=2
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_persona_text(self) -> list[dict[str, Any]]:
        lines = [ln.strip() for ln in (self.cleaned_data.get("persona_text") or "").splitlines()]
        parsed: list[tuple[str, str, str]] = []
        for line in filter(None, lines):
            parts = [p.strip() for p in line.split("|")]
            if len(parts) not in (2, 3):
                raise ValidationError(
                    _("%(line)s: write persona name | MQLs | rate.") % {"line": line}
                )
            parsed.append((parts[0], parts[1], parts[2] if len(parts) == 3 else "0"))
        ids = dict(
            Persona.objects.filter(name__in=[p[0] for p in parsed]).values_list("name", "pk")
        )
        result = []
        for name, mqls, rate in parsed:
            if name not in ids:
                raise ValidationError(_("Unknown persona: %(name)s") % {"name": name})
            result.append({"persona": ids[name], "mqls": mqls, "min_acceptance_rate": rate})
        return result

    def terms(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["persona_commitments"] = data.pop("persona_text")
        return data

    @staticmethod
    def initial_for(agreement: SlaAgreement) -> dict[str, Any]:
        names = dict(
            Persona.objects.filter(
                pk__in=[c["persona"] for c in agreement.persona_commitments]
            ).values_list("pk", "name")
        )
        return {
            "period": agreement.period,
            "mql_commitment": agreement.mql_commitment,
            "min_acceptance_rate": agreement.min_acceptance_rate,
            "persona_text": "\n".join(
                f"{names.get(c['persona'], '?')} | {c['mqls']} | {c['min_acceptance_rate']}"
                for c in agreement.persona_commitments
            ),
            "first_touch_hours": agreement.first_touch_hours,
            "attempts_required": agreement.attempts_required,
            "attempts_days": agreement.attempts_days,
            "decision_hours": agreement.decision_hours,
            "notes": agreement.notes,
        }
