"""Campaign forms: channel, UTM parameters, cost in JPY and dates."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from renkei.accounts.forms import StyledForm
from renkei.campaigns.models import Campaign, Channel

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CampaignForm(StyledForm):
    name = forms.CharField(label=_("Campaign name"), max_length=200)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    utm_source = forms.CharField(label="utm_source", max_length=100, required=False)
    utm_medium = forms.CharField(label="utm_medium", max_length=100, required=False)
    utm_campaign = forms.CharField(label="utm_campaign", max_length=100, required=False)
    utm_term = forms.CharField(label="utm_term", max_length=100, required=False)
    utm_content = forms.CharField(label="utm_content", max_length=100, required=False)
    cost = forms.IntegerField(label=_("Cost (JPY)"), min_value=0, initial=0)
    starts_on = forms.DateField(label=_("Starts on"), required=False, widget=_DATE)
    ends_on = forms.DateField(label=_("Ends on"), required=False, widget=_DATE)

    @classmethod
    def initial_for(cls, campaign: Campaign) -> dict[str, Any]:
        return {name: getattr(campaign, name) for name in cls.base_fields}
