"""Forms of the hand-off pages."""

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from renkei.accounts.forms import StyledForm
from renkei.accounts.roles import SALES
from renkei.contacts.models import PREFECTURE_CHOICES, Industry
from renkei.handoff.models import RejectReason, Team
from renkei.handoff.regions import REGION_CHOICES
from renkei.personas.models import Persona

User = get_user_model()


def _active_users() -> Any:
    return User.objects.filter(is_active=True).order_by("username")


class RuleForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    position = forms.IntegerField(
        label=_("Order"), min_value=0, initial=100, help_text=_("Rules are tried lowest first.")
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    regions = forms.MultipleChoiceField(
        label=_("Regions"),
        choices=REGION_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    prefectures = forms.MultipleChoiceField(
        label=_("Prefectures"),
        choices=PREFECTURE_CHOICES,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    industries = forms.MultipleChoiceField(
        label=_("Industries"),
        choices=Industry.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    employees_min = forms.IntegerField(label=_("Employees from"), min_value=0, required=False)
    employees_max = forms.IntegerField(label=_("Employees to"), min_value=0, required=False)
    persona = forms.ModelChoiceField(
        label=_("Best persona"), queryset=Persona.objects.all(), required=False
    )
    reps = forms.ModelMultipleChoiceField(
        label=_("Reps"),
        queryset=_active_users(),
        required=False,
        help_text=_("None chosen: every active sales rep."),
        widget=forms.CheckboxSelectMultiple,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("employees_min"), data.get("employees_max")
        if low is not None and high is not None and low > high:
            self.add_error("employees_max", _("must not be below “employees from”"))
        return data


class RepSettingsForm(StyledForm):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.all(), required=False)
    capacity = forms.IntegerField(
        label=_("Capacity (open leads)"), min_value=0, max_value=100000, initial=30
    )
    weight = forms.IntegerField(label=_("Weight"), min_value=1, max_value=100, initial=1)
    out_of_office_until = forms.DateField(
        label=_("Out of office until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    webhook_url = forms.URLField(
        label=_("Webhook URL"), required=False, max_length=500, assume_scheme="https"
    )


class TeamForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    manager = forms.ModelChoiceField(label=_("Manager"), queryset=_active_users(), required=False)
    webhook_url = forms.URLField(
        label=_("Webhook URL"), required=False, max_length=500, assume_scheme="https"
    )


class RejectForm(StyledForm):
    reason_code = forms.ChoiceField(label=_("Reason"), choices=RejectReason.choices)
    reason_text = forms.CharField(label=_("Details"), required=False, max_length=2000)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("reason_code") == RejectReason.OTHER
            and not data.get("reason_text", "").strip()
        ):
            self.add_error("reason_text", _("say why when the reason is “other”"))
        return data


TOUCH_TYPES = [
    ("call", _("Call")),
    ("email_sent", _("Email sent")),
    ("meeting", _("Meeting")),
]


class TouchForm(StyledForm):
    type = forms.ChoiceField(label=_("Touch"), choices=TOUCH_TYPES)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class ReassignForm(StyledForm):
    user = forms.ModelChoiceField(
        label=_("New rep"), queryset=User.objects.filter(is_active=True, groups__name=SALES)
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


class PeriodForm(StyledForm):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def period(self) -> tuple[Any, Any]:
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=29)
        if start > end:
            start, end = end, start
        return start, end
