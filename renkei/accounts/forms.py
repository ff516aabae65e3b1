"""Forms of the accounts pages, and the Bootstrap styling every Renkei form shares.

``StyledForm`` lives here because accounts sits below every other app: contacts and
campaigns may import it without an upward import.
"""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm, UsernameField
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from renkei.accounts.roles import ADMIN, MANAGER, MARKETING, SALES, VIEWER
from renkei.accounts.services import login_allowed, login_failure_record, user_set_role

User = get_user_model()

ROLE_LABELS = {
    ADMIN: _("Administrator"),
    MANAGER: _("Manager"),
    MARKETING: _("Marketing"),
    SALES: _("Sales"),
    VIEWER: _("Viewer"),
}
ROLE_CHOICES = list(ROLE_LABELS.items())

_CHECKS = (forms.CheckboxInput, forms.CheckboxSelectMultiple, forms.RadioSelect)


def _add_class(widget: forms.Widget, css: str) -> None:
    classes = widget.attrs.get("class", "").split()
    classes += [name for name in css.split() if name not in classes]
    widget.attrs["class"] = " ".join(classes)


class StyledMixin:
    """Bootstrap classes on every widget, and ``is-invalid`` on fields with errors."""

    fields: dict[str, forms.Field]
    errors: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, _CHECKS):
                _add_class(widget, "form-check-input")
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                _add_class(widget, "form-select form-select-sm")
            else:
                _add_class(widget, "form-control form-control-sm")

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)  # type: ignore[misc]
        for name in self.errors:
            if name in self.fields:
                _add_class(self.fields[name].widget, "is-invalid")


class StyledForm(StyledMixin, forms.Form):
    pass


def service_errors_to_form(
    form: forms.BaseForm, exc: ValidationError, aliases: dict[str, str] | None = None
) -> None:
    """Show a service's ValidationError on the form: on the field it names, else on top."""
    aliases = aliases or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, messages in exc.message_dict.items():
        name = aliases.get(field, field)
        form.add_error(name if name in form.fields else None, messages)


class ApiTokenForm(StyledForm):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What the token is for, e.g. the website form or the CRM sync."),
    )


class UserCreateForm(StyledMixin, UserCreationForm):  # type: ignore[misc]
    """A new user with a password and exactly one role."""

    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, initial=SALES)

    class Meta:
        model = User
        fields = ("username", "last_name", "first_name", "email")
        field_classes = {"username": UsernameField}
        labels = {"last_name": _("Family name"), "first_name": _("Given name")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Django's help text is HTML; this one is plain text and needs no |safe.
        self.fields["password1"].help_text = _(
            "At least 8 characters, not a common password and not like the username."
        )

    def save(self, commit: bool = True, *, actor: Any = None) -> Any:
        with transaction.atomic():
            user = super().save(commit=True)
            user_set_role(user=user, role=self.cleaned_data["role"], actor=actor)
        return user


class UserRoleForm(StyledForm):
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)


class ThrottledAuthenticationForm(AuthenticationForm):
    """The sign-in form, refusing further tries after too many recent failures."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        ip = self.request.META.get("REMOTE_ADDR") if self.request is not None else None
        if not login_allowed(ip=ip, username=username):
            raise ValidationError(
                _("Too many failed sign-ins. Try again in 15 minutes."), code="throttled"
            )
        try:
            return super().clean()
        except ValidationError:
            login_failure_record(ip=ip, username=username)
            raise
