"""HTML forms of the capture app: the marketer's form builder and the capture settings
page, and ``PublicForm``, the visitor-facing form built from a web form's fields.

They validate input; ``services`` does the writing and ``rules`` holds the rules both use.
"""

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from renkei.accounts.forms import StyledForm, StyledMixin
from renkei.campaigns.models import Campaign
from renkei.capture import rules
from renkei.capture.models import CaptureSettings, FieldType, FormField, WebForm
from renkei.capture.services import OPT_IN, default_opt_in_label, redirect_refusal
from renkei.lib import japanese as ja

PROPERTY = "property"  # the target choice "custom property" (its key is typed beside it)


# ---- the marketer's form builder ------------------------------------------------------


class WebFormForm(StyledForm):
    """A form's settings: what visitors read, where they go afterwards, the campaign."""

    name = forms.CharField(
        label=gettext_lazy("Form name"),
        max_length=200,
        help_text=gettext_lazy("For your team; visitors see the heading."),
    )
    campaign = forms.ModelChoiceField(
        label=gettext_lazy("Campaign"),
        queryset=Campaign.objects.none(),
        required=False,
        help_text=gettext_lazy("Submissions are attributed to this campaign."),
    )
    title_ja = forms.CharField(label=gettext_lazy("Heading (Japanese)"), max_length=200)
    title_en = forms.CharField(
        label=gettext_lazy("Heading (English)"), max_length=200, required=False
    )
    consent_text_ja = forms.CharField(
        label=gettext_lazy("Consent text (Japanese)"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Shown above the submit button, e.g. how personal data is handled. Submitting "
            "records the visitor's consent to this text."
        ),
    )
    consent_text_en = forms.CharField(
        label=gettext_lazy("Consent text (English)"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    ask_email_opt_in = forms.BooleanField(
        label=gettext_lazy("Ask for email opt-in (a checkbox, unticked by default)"),
        required=False,
    )
    opt_in_label_ja = forms.CharField(
        label=gettext_lazy("Opt-in label (Japanese)"), max_length=500, required=False
    )
    opt_in_label_en = forms.CharField(
        label=gettext_lazy("Opt-in label (English)"), max_length=500, required=False
    )
    thanks_message_ja = forms.CharField(
        label=gettext_lazy("Thank-you message (Japanese)"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    thanks_message_en = forms.CharField(
        label=gettext_lazy("Thank-you message (English)"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    redirect_url = forms.URLField(
        label=gettext_lazy("Redirect URL"),
        max_length=rules.URL_MAX,
        required=False,
        assume_scheme="https",
        help_text=gettext_lazy(
            "Instead of the thank-you message, send visitors to this page. Only domains an "
            "administrator allowed in the capture settings."
        ),
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("Active (accepts submissions)"), required=False, initial=True
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        campaigns = Campaign.objects.order_by("-starts_on", "-id")
        self.fields["campaign"].queryset = campaigns  # type: ignore[attr-defined]

    def clean_redirect_url(self) -> str:
        url = self.cleaned_data.get("redirect_url") or ""
        domains = CaptureSettings.current().redirect_domain_list
        if url and not rules.redirect_allowed(url, domains):
            raise ValidationError(redirect_refusal())
        return url

    @classmethod
    def initial_for(cls, form: WebForm) -> dict[str, Any]:
        return {name: getattr(form, name) for name in cls.base_fields}


def _target_choices() -> list[tuple[str, Any]]:
    return [
        ("", "---------"),
        (_("Contact"), [(k, label) for k, (label, _n) in rules.CONTACT_TARGETS.items()]),
        (_("Company"), [(k, label) for k, (label, _n) in rules.COMPANY_TARGETS.items()]),
        (_("Other"), [(PROPERTY, _("Custom property (key →)"))]),
    ]


class FieldRowForm(StyledForm):
    """One row of the form builder: a field's labels, type, target and options."""

    label_ja = forms.CharField(label=gettext_lazy("Label (Japanese)"), max_length=200)
    label_en = forms.CharField(
        label=gettext_lazy("Label (English)"), max_length=200, required=False
    )
    type = forms.ChoiceField(
        label=gettext_lazy("Type"), choices=FieldType.choices, initial=FieldType.TEXT
    )
    target = forms.ChoiceField(label=gettext_lazy("Stored in"), choices=())
    property_key = forms.CharField(
        label=gettext_lazy("Property key"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "budget"}),
    )
    required = forms.BooleanField(label=gettext_lazy("Required"), required=False)
    options = forms.CharField(
        label=gettext_lazy("Options"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "small | 小規模 | Small"}),
        help_text=gettext_lazy("Choice lists: one option a line, value | 日本語 | English."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = _target_choices()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("target") == PROPERTY and not cleaned.get("property_key"):
            self.add_error("property_key", _("Enter the custom property's key."))
        return cleaned

    def spec(self) -> rules.FieldSpec:
        data = self.cleaned_data
        target = data["target"]
        if target == PROPERTY:
            target = rules.PROPERTY_PREFIX + data.get("property_key", "").strip()
        return rules.FieldSpec(
            label_ja=data["label_ja"],
            label_en=data.get("label_en", ""),
            type=data["type"],
            target=target,
            required=bool(data.get("required")),
            options=data.get("options", ""),
        )

    @staticmethod
    def initial_for(field: FormField, order: int) -> dict[str, Any]:
        key = rules.property_key(field.target)
        return {
            "label_ja": field.label_ja,
            "label_en": field.label_en,
            "type": field.type,
            "target": PROPERTY if key else field.target,
            "property_key": key,
            "required": field.required,
            "options": field.options,
            "ORDER": order,
        }


class BaseFieldFormSet(forms.BaseFormSet):
    """The builder's rows: kept in the order the marketer numbered them, deleted rows and
    untouched blank rows left out, and the rules of ``rules.field_problems`` shown on the
    row they concern."""

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "ORDER" in form.fields:
            form.fields["ORDER"].widget.attrs.update(
                {"class": "form-control form-control-sm", "min": 1}
            )
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs["class"] = "form-check-input"

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        rows = self.kept_forms()
        problems, overall = rules.field_problems([row.spec() for row in rows])
        for index, row_problems in problems.items():
            for name, message in row_problems.items():
                rows[index].add_error(name if name in rows[index].fields else None, message)
        if overall:
            raise ValidationError(overall)
        if problems:
            raise ValidationError(_("Correct the fields marked below."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Problems the service found that the rules here did not (it checks again).
        self.service_errors: list[str] = []

    def kept_forms(self) -> list[FieldRowForm]:
        return list(self.ordered_forms)

    def specs(self) -> list[rules.FieldSpec]:
        return [row.spec() for row in self.kept_forms()]


FieldFormSet = forms.formset_factory(
    FieldRowForm,
    formset=BaseFieldFormSet,
    extra=3,
    can_order=True,
    can_delete=True,
    max_num=rules.MAX_FIELDS,
    validate_max=True,
    absolute_max=rules.MAX_FIELDS + 10,
)


def starter_fields() -> list[dict[str, Any]]:
    """The rows a new form starts with: what a typical Japanese B2B form asks."""
    rows = [
        ("会社名", "Company", FieldType.TEXT, "company_name", True),
        ("姓", "Family name", FieldType.TEXT, "family_name", True),
        ("名", "Given name", FieldType.TEXT, "given_name", True),
        ("メールアドレス", "Email", FieldType.EMAIL, "email", True),
        ("電話番号", "Phone", FieldType.TEL, "phone", False),
    ]
    return [
        {
            "label_ja": ja_label,
            "label_en": en_label,
            "type": kind,
            "target": target,
            "required": required,
            "ORDER": index + 1,
        }
        for index, (ja_label, en_label, kind, target, required) in enumerate(rows)
    ]


def field_formset_initial(form: WebForm) -> list[dict[str, Any]]:
    return [
        FieldRowForm.initial_for(field, index + 1) for index, field in enumerate(form.fields.all())
    ]


# ---- capture settings -----------------------------------------------------------------


class CaptureSettingsForm(StyledForm):
    """The site's public capture settings; each line is checked by ``rules``."""

    allowed_origins = forms.CharField(
        label=gettext_lazy("Allowed origins"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "https://www.example.co.jp"}),
        help_text=gettext_lazy(
            "One per line (scheme://host[:port]). Pages on these sites may send tracking "
            "data and post forms as JSON. Plain HTML forms may be posted from any site."
        ),
    )
    allowed_redirect_domains = forms.CharField(
        label=gettext_lazy("Allowed redirect domains"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "example.co.jp"}),
        help_text=gettext_lazy(
            "One per line. A form may send visitors after submitting only to these domains "
            "and their subdomains."
        ),
    )
    honour_do_not_track = forms.BooleanField(
        label=gettext_lazy("Honour Do Not Track and Global Privacy Control"),
        required=False,
        help_text=gettext_lazy(
            "Browsers that send DNT or Sec-GPC are not tracked, and their form submissions "
            "are not joined to their earlier page views."
        ),
    )

    def _lines(self, name: str, clean: Any) -> list[str]:
        lines = self.cleaned_data.get(name, "").splitlines()
        errors = []
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    clean(line)
                except ValueError as exc:
                    errors.append(
                        _("Line %(number)d: %(reason)s") % {"number": number, "reason": exc}
                    )
        if errors:
            raise ValidationError(errors)
        return lines

    def clean_allowed_origins(self) -> list[str]:
        return self._lines("allowed_origins", rules.clean_origin)

    def clean_allowed_redirect_domains(self) -> list[str]:
        return self._lines("allowed_redirect_domains", rules.clean_redirect_domain)

    @staticmethod
    def initial_for(current: CaptureSettings) -> dict[str, Any]:
        return {
            "allowed_origins": current.allowed_origins,
            "allowed_redirect_domains": current.allowed_redirect_domains,
            "honour_do_not_track": current.honour_do_not_track,
        }


# ---- the visitor's form ---------------------------------------------------------------

# Browser autofill hints, so visitors fill a form in one click.
_AUTOCOMPLETE = {
    "email": "email",
    "family_name": "family-name",
    "given_name": "given-name",
    "phone": "tel",
    "title": "organization-title",
    "company_name": "organization",
    "prefecture": "address-level1",
}
_DOMAIN = re.compile(r"^(?!-)[a-z0-9\u00a1-\uffff-]{1,63}(\.(?!-)[a-z0-9\u00a1-\uffff-]{1,63})+$")


class VisitorEmailField(forms.EmailField):
    """An email as visitors type it: full-width letters and ＠ (IME input) and stray
    spaces are accepted and normalised before the address is checked."""

    def to_python(self, value: Any) -> str:
        text = super().to_python(value) or ""
        return ja.nfkc(text).replace(" ", "").replace("\u3000", "")


class PublicForm(forms.Form):
    """The visitor-facing form of a web form: one field per ``FormField``, named by its
    target, labelled in ``language``, with the lengths the storage accepts; plus the
    opt-in checkbox when the form asks for it. Unknown inputs are ignored."""

    def __init__(self, *args: Any, webform: WebForm, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.webform, self.language = webform, language
        self.form_fields = list(webform.fields.all())
        for form_field in self.form_fields:
            self.fields[form_field.target] = self._field_for(form_field)
        if webform.ask_email_opt_in:
            self.fields[OPT_IN] = forms.BooleanField(
                label=webform.text("opt_in_label", language) or default_opt_in_label(language),
                required=False,
            )

    def _field_for(self, spec: FormField) -> forms.Field:
        label, required = spec.label(self.language), spec.required
        max_length = rules.answer_max_length(spec.target, spec.type)
        field: forms.Field
        if spec.type == FieldType.EMAIL:
            field = VisitorEmailField(label=label, required=True, max_length=max_length)
        elif spec.type == FieldType.CHECKBOX:
            field = forms.BooleanField(label=label, required=required)
        elif spec.type == FieldType.SELECT:
            field = forms.ChoiceField(
                label=label,
                required=required,
                choices=[("", "---"), *spec.choices(self.language)],
            )
        else:
            widget: forms.Widget = (
                forms.Textarea(attrs={"rows": 4})
                if spec.type == FieldType.TEXTAREA
                else forms.TextInput(attrs={"type": "tel"} if spec.type == FieldType.TEL else {})
            )
            field = forms.CharField(
                label=label, required=required, max_length=max_length, widget=widget
            )
        if hint := _AUTOCOMPLETE.get(spec.target):
            field.widget.attrs["autocomplete"] = hint
        return field

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, value in list(cleaned.items()):
            if isinstance(value, str) and value and (problem := _answer_problem(name, value)):
                self.add_error(name, problem)
        return cleaned

    def answers(self) -> dict[str, Any]:
        """The validated answers by target (and ``OPT_IN``), for ``webform_submit``."""
        return dict(self.cleaned_data)


def _answer_problem(target: str, value: str) -> str:
    """A translated reason when an answer cannot be stored where its field stores it."""
    if target in rules.PHONE_TARGETS:
        try:
            ja.parse_phone(value)
        except ValueError:
            return _("Enter a phone number such as 03-1234-5678.")
    elif target in rules.PREFECTURE_TARGETS:
        try:
            ja.normalize_prefecture(value)
        except ValueError:
            return _("Enter a prefecture such as 東京都.")
    elif target == "company_domain" and not _DOMAIN.match(ja.normalize_domain(value)):
        return _("Enter a domain such as example.co.jp.")
    return ""


class StyledPublicForm(StyledMixin, PublicForm):
    """``PublicForm`` with Bootstrap classes: the hosted form page."""
