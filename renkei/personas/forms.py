"""Forms of the personas pages: criteria are edited as text, one criterion per line."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from renkei.accounts.forms import StyledForm
from renkei.personas.criteria import criteria_from_text

CRITERIA_HELP = _(
    "One criterion per line: weight | field | values. Fields: industry, employees (min-max), "
    "title, department (keywords), prefecture, stage, property (key=value)."
)


class VersionForm(StyledForm):
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    pains = forms.CharField(
        label=_("Pains"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    goals = forms.CharField(
        label=_("Goals"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    criteria_text = forms.CharField(
        label=_("Criteria"),
        help_text=CRITERIA_HELP,
        widget=forms.Textarea(attrs={"rows": 8, "class": "font-monospace"}),
    )

    def clean_criteria_text(self) -> list[dict[str, Any]]:
        try:
            return criteria_from_text(self.cleaned_data["criteria_text"])
        except ValidationError as error:
            raise ValidationError(error.messages) from None


class PersonaForm(VersionForm):
    name = forms.CharField(label=_("Name"), max_length=120)

    field_order = ["name", "description", "pains", "goals", "criteria_text"]
