"""The stage edit form: text areas for signals and content, parsed line by line."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from renkei.accounts.forms import StyledForm
from renkei.campaigns.models import Campaign
from renkei.contacts.models import LifecycleStage
from renkei.journey.entry_signals import signal_format, signal_parse
from renkei.journey.models import JourneyStage


class JourneyStageForm(StyledForm):
    name = forms.CharField(label=_("Name (Japanese)"), max_length=100)
    name_en = forms.CharField(label=_("Name (English)"), max_length=100, required=False)
    position = forms.IntegerField(
        label=_("Position"),
        min_value=0,
        max_value=32767,
        help_text=_("Stages are shown and ranked by position, smallest first."),
    )
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    lifecycle_stages = forms.MultipleChoiceField(
        label=_("Lifecycle stages"),
        choices=LifecycleStage.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    entry_signals = forms.CharField(
        label=_("Entry signals"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_(
            "One per line: “page_view”, “page_view url contains /pricing” or "
            "“contact title contains 部長”."
        ),
    )
    campaigns = forms.ModelMultipleChoiceField(
        label=_("Campaigns"),
        queryset=Campaign.objects.order_by("name"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    content_notes = forms.CharField(
        label=_("Content"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("One per line: “title | https://…”."),
    )

    def clean_entry_signals(self) -> list[dict[str, str]]:
        signals, errors = [], []
        lines = [line.strip() for line in self.cleaned_data["entry_signals"].splitlines()]
        for number, line in enumerate(lines, start=1):
            if not line:
                continue
            try:
                signals.append(signal_parse(line))
            except ValidationError as exc:
                errors += [
                    gettext("Line %(number)s: %(error)s") % {"number": number, "error": m}
                    for m in exc.messages
                ]
        if errors:
            raise ValidationError(errors)
        return signals

    def clean_content_notes(self) -> list[dict[str, str]]:
        notes = []
        for line in self.cleaned_data["content_notes"].splitlines():
            if line.strip():
                title, _sep, url = line.rpartition("|") if "|" in line else (line, "", "")
                notes.append({"title": title.strip(), "url": url.strip()})
        return notes

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["campaign_ids"] = [c.pk for c in data.pop("campaigns")]
        return data

    @staticmethod
    def initial_for(stage: JourneyStage) -> dict[str, Any]:
        return {
            "name": stage.name,
            "name_en": stage.name_en,
            "position": stage.position,
            "description": stage.description,
            "lifecycle_stages": stage.lifecycle_stages,
            "entry_signals": "\n".join(signal_format(s) for s in stage.entry_signals),
            "campaigns": list(stage.campaigns.all()),
            "content_notes": "\n".join(
                f"{n['title']} | {n['url']}" if n["url"] else n["title"]
                for n in stage.content_notes
            ),
        }
