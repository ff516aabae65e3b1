"""Forms of the import pages: the upload, and the mapping built from the file's header."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from renkei.accounts.forms import StyledForm
from renkei.campaigns.models import Campaign
from renkei.contacts.services.bulk_upsert import FILL, KEEP_EXISTING, OVERWRITE
from renkei.imports.mapping import (
    BUILTIN_PRESETS,
    PROPERTY_PREFIX,
    TARGET_LABELS,
    property_target,
    target_rule_fields,
)
from renkei.imports.models import ImportJob, MappingPreset

RULE_CHOICES = [
    (FILL, _("Fill empty fields only")),
    (OVERWRITE, _("Overwrite with the file's value")),
    (KEEP_EXISTING, _("Keep the stored value")),
]


def preset_choices() -> list[tuple[str, Any]]:
    saved = [(name, name) for name in MappingPreset.objects.values_list("name", flat=True)]
    builtin = [(slug, preset.label) for slug, preset in BUILTIN_PRESETS.items()]
    return [("", _("Suggest from the header")), *builtin, *saved]


class UploadForm(StyledForm):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 (with or without BOM) or Shift_JIS (CP932); comma or tab separated."),
    )
    preset = forms.ChoiceField(label=_("Mapping preset"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = preset_choices()  # type: ignore[attr-defined]


class MappingForm(StyledForm):
    """One target and one rule per column, plus the trade-show settings."""

    campaign = forms.ModelChoiceField(
        label=_("Campaign (trade show)"),
        queryset=Campaign.objects.none(),
        required=False,
        help_text=_(
            "New contacts get it as their first-touch campaign, and every row records a "
            "trade-show visit (展示会) on its exchange date."
        ),
    )
    exchange_date = forms.DateField(
        label=_("Exchange date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Used for rows without an exchange-date column value; default today."),
    )
    save_preset_as = forms.CharField(
        label=_("Save this mapping as a preset named"), required=False, max_length=100
    )

    def __init__(self, *args: Any, job: ImportJob, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.job = job
        # Campaigns number in the dozens or hundreds: a plain select is fine.
        campaigns = Campaign.objects.order_by("-starts_on", "-id")
        self.fields["campaign"].queryset = campaigns  # type: ignore[attr-defined]
        base = [("", _("(ignore)")), *TARGET_LABELS.items()]
        for index, header in enumerate(job.header):
            current = job.mapping[index] if index < len(job.mapping) else ""
            own = property_target(header)
            choices = [
                *base,
                (own, _("Custom property: %(name)s") % {"name": own[len(PROPERTY_PREFIX) :]}),
            ]
            if current.startswith(PROPERTY_PREFIX) and current != own:
                choices.append(
                    (
                        current,
                        _("Custom property: %(name)s") % {"name": current[len(PROPERTY_PREFIX) :]},
                    )
                )
            label = header or _("(column %(number)d)") % {"number": index + 1}
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=label, choices=choices, required=False, initial=current
            )
            self.fields[f"rule_{index}"] = forms.ChoiceField(
                label=_("Rule for %(column)s") % {"column": label},
                choices=RULE_CHOICES,
                initial=_rule_of(job, current),
            )
        # StyledForm styled the fields that existed when it ran; style the new ones too.
        for name, field in self.fields.items():
            if name.startswith(("column_", "rule_")):
                field.widget.attrs["class"] = "form-select form-select-sm"

    def columns(self) -> list[dict[str, Any]]:
        """Per column, for the template: header, its target and rule fields, sample cells."""
        return [
            {"index": i, "target": self[f"column_{i}"], "rule": self[f"rule_{i}"]}
            for i in range(len(self.job.header))
        ]

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(f"column_{i}") or "" for i in range(len(self.job.header))]

    def column_rules(self) -> list[str]:
        return [self.cleaned_data.get(f"rule_{i}") or FILL for i in range(len(self.job.header))]


def _rule_of(job: ImportJob, target: str) -> str:
    for name in target_rule_fields(target):
        if name in job.rules:
            return str(job.rules[name])
    return FILL
