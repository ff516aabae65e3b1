"""HTML forms of the contacts app. They validate input; services do the writing."""

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from renkei.accounts.forms import StyledForm, service_errors_to_form
from renkei.contacts.duplicates import COMPANY_REASONS, REASONS
from renkei.contacts.models import (
    PREFECTURE_CHOICES,
    Company,
    Contact,
    Industry,
    LifecycleStage,
)
from renkei.contacts.selectors import CompanyFilters, ContactFilters
from renkei.lib.japanese import normalize_email

User = get_user_model()

BLANK = [("", "---------")]
NO_OWNER = "0"  # ContactFilters.owner_id == 0 means "no owner"
ACTIVITY_TYPES = [("note", _("Note")), ("call", _("Call")), ("meeting", _("Meeting"))]


def user_label(user: Any) -> str:
    return user.get_full_name() or user.get_username()


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return user_label(obj)


def _active_users() -> Any:
    return User.objects.filter(is_active=True).order_by("username")


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# ---- lists ----------------------------------------------------------------------------


class ContactFilterForm(StyledForm):
    """The contacts list's filters: the same as the API's, built into ContactFilters."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    stage = forms.MultipleChoiceField(
        label=_("Lifecycle stage"),
        choices=LifecycleStage.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    company = forms.IntegerField(
        label=_("Company"), required=False, min_value=1, widget=forms.HiddenInput
    )
    score_min = forms.IntegerField(label=_("Score from"), required=False)
    score_max = forms.IntegerField(label=_("Score to"), required=False)
    created_from = forms.DateField(
        label=_("Created from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_to = forms.DateField(
        label=_("Created to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    after = forms.IntegerField(
        label=_("Page"), required=False, min_value=1, widget=forms.HiddenInput
    )

    # Messages for ContactFilters.errors(), which owns the rules (shared with the API).
    filter_messages = {
        "stage": _("Unknown lifecycle stage."),
        "score_max": _("Must be at least the minimum score."),
        "created_to": _("Must be on or after the start date."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owners = [(str(u.pk), user_label(u)) for u in _active_users()]
        self.fields["owner"].choices = [  # type: ignore[attr-defined]
            ("", _("Anyone")),
            (NO_OWNER, _("No owner")),
            *owners,
        ]
        self.company_obj: Company | None = None

    def clean_company(self) -> int | None:
        company_id = self.cleaned_data.get("company")
        if company_id is not None:
            self.company_obj = Company.objects.filter(pk=company_id).first()
            if self.company_obj is None:
                raise ValidationError(_("No company with this id."))
        return company_id

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for field, message in self.to_filters().errors().items():
            if field not in self.errors:  # a value that did not parse already says why
                self.add_error(
                    field if field in self.fields else None,
                    self.filter_messages.get(field, message),
                )
        return cleaned

    def to_filters(self) -> ContactFilters:
        data = self.cleaned_data
        owner = data.get("owner") or ""
        created_to = data.get("created_to")
        return ContactFilters(
            stages=list(data.get("stage") or []),
            owner_id=int(owner) if owner else None,
            company_id=data.get("company"),
            score_min=data.get("score_min"),
            score_max=data.get("score_max"),
            created_from=_start_of_day(data["created_from"]) if data.get("created_from") else None,
            # The form's end date is inclusive; the filter's bound is exclusive.
            created_to=_start_of_day(created_to + timedelta(days=1)) if created_to else None,
            q=data.get("q") or "",
        )


class ExportForm(StyledForm):
    """The file format of a contacts export (the filters come from ContactFilterForm)."""

    FORMATS = {
        "csv": ("text/csv; charset=utf-8", "csv"),
        "csv-cp932": ("text/csv; charset=shift_jis", "csv"),
        "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    }
    format = forms.ChoiceField(
        label=_("File format"),
        choices=[
            ("csv", _("CSV (UTF-8 with BOM)")),
            ("csv-cp932", _("CSV (Shift_JIS / CP932, for Excel in Japan)")),
            ("xlsx", _("Excel (XLSX)")),
        ],
    )


class CompanyFilterForm(StyledForm):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    industry = forms.ChoiceField(
        label=_("Industry"), required=False, choices=[("", _("All")), *Industry.choices]
    )
    prefecture = forms.ChoiceField(
        label=_("Prefecture"), required=False, choices=[("", _("All")), *PREFECTURE_CHOICES]
    )
    after = forms.IntegerField(
        label=_("Page"), required=False, min_value=1, widget=forms.HiddenInput
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for field, message in self.to_filters().errors().items():
            if field not in self.errors:
                self.add_error(field if field in self.fields else None, message)
        return cleaned

    def to_filters(self) -> CompanyFilters:
        data = self.cleaned_data
        return CompanyFilters(
            q=data.get("q") or "",
            industry=data.get("industry") or "",
            prefecture=data.get("prefecture") or "",
        )


# ---- duplicates -----------------------------------------------------------------------

MERGE_GROUP_MAX = 20  # records merged in one go; groups are 2-3 records in practice


class DuplicatesForm(StyledForm):
    """Which reason's duplicate groups to list, and from which key on (the page)."""

    reason = forms.ChoiceField(label=_("Reason"), choices=list(REASONS.items()), required=False)
    after = forms.CharField(label=_("Page"), required=False, max_length=2000)


class IdListField(forms.Field):
    """Several ids posted under one name (hidden inputs), as a list of distinct ints."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            ids = [int(v) for v in values]
        except (TypeError, ValueError):
            raise ValidationError(_("Enter whole numbers.")) from None
        if any(i < 1 for i in ids):
            raise ValidationError(_("Enter whole numbers."))
        return list(dict.fromkeys(ids))


class DuplicateMergeForm(StyledForm):
    """A group to merge: its records, the one that survives, and whether it is confirmed."""

    reason = forms.ChoiceField(label=_("Reason"), choices=list(REASONS.items()))
    members = IdListField(label=_("Records"))
    keep = forms.IntegerField(label=_("Record to keep"), min_value=1)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    @property
    def kind(self) -> str:
        return "company" if self.cleaned_data.get("reason") in COMPANY_REASONS else "contact"

    def clean_members(self) -> list[int]:
        members: list[int] = self.cleaned_data["members"]
        if not 2 <= len(members) <= MERGE_GROUP_MAX:
            raise ValidationError(
                _("Choose between 2 and %(max)s records.") % {"max": MERGE_GROUP_MAX}
            )
        return members

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        keep, members = cleaned.get("keep"), cleaned.get("members")
        if keep is not None and members and keep not in members:
            self.add_error("keep", _("Choose the record to keep among the group's records."))
        return cleaned


# ---- contact changes ------------------------------------------------------------------


class StageForm(StyledForm):
    to_stage = forms.ChoiceField(label=_("New stage"), choices=LifecycleStage.choices)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the contact moves backwards or out of the funnel."),
    )

    # The service's rule (backwards needs a reason), said in the user's language.
    service_messages = {"reason": _("Moving a contact backwards needs a reason.")}

    def add_service_error(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict") and "reason" in exc.error_dict:
            self.add_error("reason", self.service_messages["reason"])
        else:
            service_errors_to_form(self, exc, {"lifecycle_stage": "to_stage"})


class OwnerForm(StyledForm):
    owner = UserChoiceField(
        label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("No owner")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _active_users()  # type: ignore[attr-defined]


class ContactForm(StyledForm):
    """Personal data of a contact. Names are family name first, as in Japan."""

    email = forms.EmailField(label=_("Email"), max_length=254)
    family_name = forms.CharField(label=_("Family name"), max_length=100, required=False)
    given_name = forms.CharField(label=_("Given name"), max_length=100, required=False)
    family_name_kana = forms.CharField(
        label=_("Family name (kana)"), max_length=100, required=False
    )
    given_name_kana = forms.CharField(label=_("Given name (kana)"), max_length=100, required=False)
    company_name = forms.CharField(
        label=_("Company"),
        max_length=200,
        required=False,
        help_text=_("An existing company is found by its name; otherwise it is created."),
    )
    department = forms.CharField(label=_("Department"), max_length=200, required=False)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    prefecture = forms.ChoiceField(
        label=_("Prefecture"), choices=BLANK + PREFECTURE_CHOICES, required=False
    )

    # Service error keys that belong to a differently named form field.
    aliases = {"company_id": "company_name", "company": "company_name"}

    @classmethod
    def initial_for(cls, contact: Contact) -> dict[str, Any]:
        initial = {
            name: getattr(contact, name) for name in cls.base_fields if name != "company_name"
        }
        initial["company_name"] = contact.company.name if contact.company else ""
        return initial

    def changes_for(self, contact: Contact) -> dict[str, Any]:
        """The service arguments: every personal field, and the company only when renamed."""
        data = dict(self.cleaned_data)
        company_name = data.pop("company_name").strip()
        current = contact.company.name if contact.company else ""
        if company_name != current:
            if company_name:
                data["company_name"] = company_name
            else:
                data["company_id"] = None
        return data


class ContactCreateForm(ContactForm):
    lifecycle_stage = forms.ChoiceField(
        label=_("Lifecycle stage"), choices=LifecycleStage.choices, initial=LifecycleStage.LEAD
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if Contact.objects.filter(email_normalized=normalize_email(email)).exists():
            raise ValidationError(_("A contact with this email already exists."))
        return email

    def upsert_arguments(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        company_name = data.pop("company_name").strip()
        if company_name:
            data["company_name"] = company_name
        return data


class ActivityForm(StyledForm):
    """A note, call or meeting logged by hand; it becomes an event on the timeline."""

    type = forms.ChoiceField(label=_("Type"), choices=ACTIVITY_TYPES)
    body = forms.CharField(
        label=_("Content"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for now."),
    )


# ---- companies ------------------------------------------------------------------------


class CompanyForm(StyledForm):
    name = forms.CharField(label=_("Company name"), max_length=200)
    name_kana = forms.CharField(label=_("Company name (kana)"), max_length=200, required=False)
    domain = forms.CharField(label=_("Domain"), max_length=200, required=False)
    industry = forms.ChoiceField(
        label=_("Industry"), choices=BLANK + list(Industry.choices), required=False
    )
    employee_count = forms.IntegerField(label=_("Employees"), min_value=0, required=False)
    prefecture = forms.ChoiceField(
        label=_("Prefecture"), choices=BLANK + PREFECTURE_CHOICES, required=False
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)

    @classmethod
    def initial_for(cls, company: Company) -> dict[str, Any]:
        return {name: getattr(company, name) for name in cls.base_fields}
