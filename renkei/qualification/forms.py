"""The policy form; the service re-checks everything and names the field."""

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from renkei.accounts.forms import StyledForm
from renkei.qualification.models import QualificationPolicy
from renkei.qualification.services import POLICY_FIELDS


class QualificationPolicyForm(StyledForm):
    fit_threshold = forms.IntegerField(
        label=_("Persona fit at least (0–100)"),
        help_text=_("The fit of the contact's best persona; a contact without one has 0."),
    )
    engagement_threshold = forms.IntegerField(
        label=_("Engagement score at least"),
        help_text=_("The engagement score now, decay included."),
    )
    hand_raise_event_types = forms.CharField(
        label=_("Hand-raise event types"),
        required=False,
        help_text=_(
            "Event types that qualify a contact on their own, separated by commas, "
            "for example demo_request, contact_request. Empty: none."
        ),
    )
    hand_raise_window_days = forms.IntegerField(
        label=_("Hand-raise window (days)"),
        help_text=_("A hand-raise event counts for this many days."),
    )
    active = forms.BooleanField(
        label=_("Active: move contacts that meet the policy to MQL"), required=False
    )

    @classmethod
    def initial_for(cls, policy: QualificationPolicy) -> dict[str, Any]:
        initial = {name: getattr(policy, name) for name in POLICY_FIELDS}
        initial["hand_raise_event_types"] = ", ".join(policy.hand_raise_event_types)
        return initial

    def clean_hand_raise_event_types(self) -> list[str]:
        text = self.cleaned_data.get("hand_raise_event_types") or ""
        return [part for part in re.split(r"[\s,、]+", text.strip()) if part]
