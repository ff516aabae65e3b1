"""Forms of the deals pages. Fields are checked here for shape (a yen amount, a date);
the services check the rest and name the field of every error."""

import re
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from renkei.accounts.forms import StyledForm
from renkei.campaigns.models import Campaign
from renkei.contacts.models import Company, Contact
from renkei.deals.models import DealStatus, LostReason, Pipeline, PipelineStage
from renkei.lib.japanese import normalize_email

User = get_user_model()
_YEN_NOISE = re.compile(r"[\s,，¥￥円]")


class YenField(forms.CharField):
    """A whole number of yen; accepts ``1,200,000``, ``¥1200000`` and ``1200000円``."""

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = _YEN_NOISE.sub("", str(value or ""))
        text = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        if not text:
            return None
        if text.startswith("-") and text[1:].isdigit():
            raise forms.ValidationError(_("The amount cannot be negative."))
        if not text.isdigit():
            raise forms.ValidationError(_("Enter the amount in whole yen, e.g. 1,200,000."))
        return int(text)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


def _users() -> Any:
    return User.objects.filter(is_active=True).order_by("username")


class DealForm(StyledForm):
    name = forms.CharField(label=_("Deal name"), max_length=200)
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"), queryset=Pipeline.objects.all(), empty_label=None
    )
    stage = forms.ModelChoiceField(
        label=_("Stage"),
        queryset=PipelineStage.objects.filter(is_won=False, is_lost=False).select_related(
            "pipeline"
        ),
        required=False,
        help_text=_("Empty: the pipeline's first stage."),
    )
    amount = YenField(label=_("Amount (JPY)"), required=False, initial=0)
    expected_close_date = forms.DateField(
        label=_("Expected close date"),
        required=False,
        widget=DateInput(),
        input_formats=["%Y-%m-%d", "%Y/%m/%d"],
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    contacts = forms.CharField(
        label=_("Contacts"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Email addresses or contact IDs, one per line or separated by commas."),
    )
    company = forms.IntegerField(
        label=_("Company ID"),
        required=False,
        min_value=1,
        help_text=_("Empty: the first contact's company."),
    )
    source_campaign = forms.ModelChoiceField(
        label=_("Source campaign"), queryset=Campaign.objects.all(), required=False
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _users()  # type: ignore[attr-defined]
        if editing:  # the stage changes by moving the deal, never by editing it
            del self.fields["pipeline"]
            del self.fields["stage"]

    def clean_amount(self) -> int:
        return self.cleaned_data["amount"] or 0

    def clean_contacts(self) -> list[int]:
        tokens = [t for t in re.split(r"[\s,、]+", self.cleaned_data["contacts"]) if t]
        ids = {int(t) for t in tokens if t.isdigit()}
        emails = {normalize_email(t) for t in tokens if not t.isdigit()}
        by_email = dict(
            Contact.objects.filter(email_normalized__in=emails).values_list(
                "email_normalized", "id"
            )
        )
        found_ids = set(Contact.objects.filter(id__in=ids).values_list("id", flat=True))
        missing = sorted(str(i) for i in ids - found_ids) + sorted(emails - set(by_email))
        if missing:
            raise forms.ValidationError(
                _("No such contact: %(missing)s") % {"missing": ", ".join(missing)}
            )
        return sorted(found_ids | set(by_email.values()))

    def clean_company(self) -> Company | None:
        pk = self.cleaned_data["company"]
        if pk is None:
            return None
        company = Company.objects.filter(pk=pk).first()
        if company is None:
            raise forms.ValidationError(_("No company with this ID."))
        return company


class MoveForm(forms.Form):
    """The move endpoint's input: target stage, the stage the user saw, a lost reason."""

    stage = forms.IntegerField()
    expected_stage = forms.IntegerField(required=False)
    lost_reason = forms.ChoiceField(choices=[("", "—"), *LostReason.choices], required=False)
    note = forms.CharField(required=False, max_length=2000)


class CloseForm(StyledForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(DealStatus.WON, _("Won")), (DealStatus.LOST, _("Lost"))],
        widget=forms.RadioSelect,
    )
    lost_reason = forms.ChoiceField(
        label=_("Lost reason"), choices=[("", "—"), *LostReason.choices], required=False
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    expected_stage = forms.IntegerField(required=False, widget=forms.HiddenInput)


class DealFilterForm(StyledForm):
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    stage = forms.ModelChoiceField(
        label=_("Stage"),
        queryset=PipelineStage.objects.select_related("pipeline"),
        required=False,
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All")), *DealStatus.choices], required=False
    )
    close_month = forms.DateField(
        label=_("Close month"),
        required=False,
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        error_messages={"invalid": _("Enter a month as YYYY-MM.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _users()  # type: ignore[attr-defined]


class PipelineForm(StyledForm):
    name = forms.CharField(label=_("Pipeline name"), max_length=100)


class StageForm(StyledForm):
    name = forms.CharField(label=_("Stage name"), max_length=100)
    order = forms.IntegerField(label=_("Order"), min_value=0, max_value=32767)
    probability = forms.IntegerField(label=_("Probability (%)"), min_value=0, max_value=100)
    is_won = forms.BooleanField(label=_("Won stage"), required=False)
    is_lost = forms.BooleanField(label=_("Lost stage"), required=False)
