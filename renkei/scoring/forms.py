"""The engagement-rule form; the service re-checks everything and names the field."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from renkei.accounts.forms import StyledForm
from renkei.events.models import EventType
from renkei.scoring.models import EngagementRule, Operator
from renkei.scoring.services import RULE_FIELDS


class EngagementRuleForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    event_type = forms.CharField(
        label=_("Event type"),
        max_length=64,
        help_text=_("A built-in type (%(types)s) or your own slug.")
        % {"types": ", ".join(EventType.values)},
    )
    property_key = forms.CharField(label=_("Property"), max_length=64, required=False)
    operator = forms.ChoiceField(
        label=_("Operator"), choices=[("", "—"), *Operator.choices], required=False
    )
    property_value = forms.CharField(label=_("Value"), max_length=200, required=False)
    points = forms.IntegerField(label=_("Points"))
    daily_cap = forms.IntegerField(
        label=_("Daily cap (points per contact per day, JST)"), required=False, min_value=1
    )
    half_life_days = forms.FloatField(
        label=_("Half-life (days)"),
        required=False,
        help_text=_("Empty: points never decay."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    @classmethod
    def initial_for(cls, rule: EngagementRule) -> dict[str, Any]:
        return {name: getattr(rule, name) for name in RULE_FIELDS}
