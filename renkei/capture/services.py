"""Every write of the capture app: web forms and their fields, capture settings, and the
submission of a form by a visitor (``webform_submit``).

Keyword-only, typed, atomic; changes made by users go to the audit trail. Errors are
``ValidationError``s keyed by the field at fault (for a submission: the field's target,
which is also its input name).
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from renkei.accounts.services import audit_record
from renkei.campaigns.models import Campaign
from renkei.capture import rules
from renkei.capture.models import CaptureSettings, FormField, FormSubmission, WebForm
from renkei.contacts.models import Company, ConsentKind, Contact
from renkei.contacts.services import (
    UTM_KEYS,
    Actor,
    Conflict,
    FirstTouch,
    company_find,
    company_update,
    company_upsert,
    consent_record,
    contact_upsert,
    contacts_stamp_first_touch,
)
from renkei.events.models import EventType
from renkei.events.services import EventInput, events_record

# The opt-in checkbox's input name (it is not a field the marketer defines).
OPT_IN = "email_opt_in"

# Settings of a form: name → longest text (None: not text).
_FORM_TEXTS = {
    "name": 200,
    "title_ja": 200,
    "title_en": 200,
    "consent_text_ja": 5000,
    "consent_text_en": 5000,
    "opt_in_label_ja": 500,
    "opt_in_label_en": 500,
    "thanks_message_ja": 5000,
    "thanks_message_en": 5000,
    "redirect_url": rules.URL_MAX,
}
_FORM_FLAGS = ("ask_email_opt_in", "is_active")
# A company's own fields, by the target that fills them.
_COMPANY_COLUMNS = {
    "company_name": "name",
    "company_name_kana": "name_kana",
    "company_domain": "domain",
    "company_phone": "phone",
    "company_prefecture": "prefecture",
    "company_address": "address",
}


# ---- forms ----------------------------------------------------------------------------


def _text(value: Any, field_name: str, max_length: int) -> str:
    text = "" if value is None else str(value).strip()
    if "\x00" in text:
        raise ValidationError({field_name: _("Null characters are not allowed.")})
    if len(text) > max_length:
        raise ValidationError(
            {field_name: _("At most %(count)d characters.") % {"count": max_length}}
        )
    return text


def _clean_form_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """A form's settings checked: known names, text lengths, campaign, redirect domain."""
    clean: dict[str, Any] = {}
    for name, value in data.items():
        if name in _FORM_TEXTS:
            clean[name] = _text(value, name, _FORM_TEXTS[name])
        elif name in _FORM_FLAGS:
            clean[name] = bool(value)
        elif name == "campaign":
            if value is not None and not isinstance(value, Campaign):
                raise ValidationError({"campaign": "must be a Campaign or None"})
            clean[name] = value
        else:
            raise ValidationError({name: _("unknown field")})
    if "name" in clean and not clean["name"]:
        raise ValidationError({"name": _("Enter a name.")})
    url = clean.get("redirect_url")
    if url and not rules.redirect_allowed(url, CaptureSettings.current().redirect_domain_list):
        raise ValidationError({"redirect_url": redirect_refusal()})
    return clean


def redirect_refusal() -> str:
    """Why a redirect URL was refused, naming the domains that are allowed."""
    domains = CaptureSettings.current().redirect_domain_list
    if not domains:
        return _(
            "Redirects are allowed only to domains an administrator lists in the capture "
            "settings, and none is listed yet."
        )
    return _(
        "Redirects are allowed only to http(s) addresses on these domains (or their "
        "subdomains): %(domains)s."
    ) % {"domains": ", ".join(domains)}


def _checked_fields(fields: Sequence[rules.FieldSpec]) -> list[rules.FieldSpec]:
    """The fields as stored, or a ValidationError listing every problem by field number.

    The email address is what a contact is found by: its field is always required."""
    rows, overall = rules.field_problems(fields)
    messages = list(overall)
    for index, problems in sorted(rows.items()):
        for name, message in problems.items():
            messages.append(
                _("Field %(number)d (%(name)s): %(message)s")
                % {"number": index + 1, "name": name, "message": message}
            )
    if messages:
        raise ValidationError({"fields": messages})
    return [replace(spec, required=True) if spec.target == "email" else spec for spec in fields]


def _replace_fields(form: WebForm, fields: Sequence[rules.FieldSpec]) -> None:
    """The form's fields become ``fields``, in that order (nothing else refers to a
    field row, so replacing them is simpler than matching old and new)."""
    form.fields.all().delete()
    FormField.objects.bulk_create(
        FormField(
            form=form,
            position=position,
            label_ja=spec.label_ja.strip(),
            label_en=spec.label_en.strip(),
            type=spec.type,
            required=spec.required,
            target=spec.target,
            options=spec.options.strip(),
        )
        for position, spec in enumerate(fields)
    )


def _fields_summary(fields: Sequence[rules.FieldSpec] | Sequence[FormField]) -> list[str]:
    return [f"{f.target}:{f.type}{'*' if f.required else ''}" for f in fields]


def _audit_value(value: Any) -> Any:
    return value.pk if isinstance(value, Campaign) else value


@transaction.atomic
def webform_create(
    *, actor: Actor, name: str, fields: Sequence[rules.FieldSpec], **data: Any
) -> WebForm:
    """Create a form with its fields (in order). ``data``: campaign, title_ja/en,
    consent_text_ja/en, ask_email_opt_in, opt_in_label_ja/en, thanks_message_ja/en,
    redirect_url (only to an allowed domain), is_active."""
    clean = _clean_form_data({"name": name, **data})
    fields = _checked_fields(fields)
    form = WebForm.objects.create(**clean)
    _replace_fields(form, fields)
    changes = {k: [None, _audit_value(v)] for k, v in clean.items() if v not in ("", None)}
    changes["fields"] = [None, _fields_summary(fields)]
    audit_record(
        actor=actor, action="webform.create", object_type="webform", object_id=form.pk,
        changes=changes,
    )  # fmt: skip
    return form


@transaction.atomic
def webform_update(
    *,
    form: WebForm,
    actor: Actor,
    fields: Sequence[rules.FieldSpec] | None = None,
    **data: Any,
) -> WebForm:
    """Change a form's settings and, when ``fields`` is given, replace its fields."""
    clean = _clean_form_data(data)
    changes = {
        k: [_audit_value(getattr(form, k)), _audit_value(v)]
        for k, v in clean.items()
        if getattr(form, k) != v
    }
    if fields is not None:
        fields = _checked_fields(fields)
        old, new = _fields_summary(list(form.fields.all())), _fields_summary(fields)
        if old != new:
            changes["fields"] = [old, new]
        _replace_fields(form, fields)
    for name, value in clean.items():
        setattr(form, name, value)
    form.save()
    if changes:
        audit_record(
            actor=actor, action="webform.update", object_type="webform", object_id=form.pk,
            changes=changes,
        )  # fmt: skip
    return form


@transaction.atomic
def webform_delete(*, form: WebForm, actor: Actor) -> None:
    """Delete a form and its submission records; contacts and events stay."""
    form_id, name = form.pk, form.name
    form.delete()
    audit_record(
        actor=actor, action="webform.delete", object_type="webform", object_id=form_id,
        changes={"name": [name, None]},
    )  # fmt: skip


# ---- capture settings -----------------------------------------------------------------


def _clean_lines(values: Sequence[str], clean: Any) -> tuple[list[str], list[str]]:
    """(cleaned distinct values, "Line n: reason" for each bad one); blank lines skipped."""
    found: list[str] = []
    errors = []
    for number, value in enumerate(values, start=1):
        if not str(value).strip():
            continue
        try:
            item = clean(str(value))
        except ValueError as exc:
            errors.append(_("Line %(number)d: %(reason)s") % {"number": number, "reason": exc})
            continue
        if item not in found:
            found.append(item)
    return found, errors


@transaction.atomic
def capture_settings_update(
    *,
    actor: Actor,
    allowed_origins: Sequence[str],
    allowed_redirect_domains: Sequence[str],
    honour_do_not_track: bool,
) -> CaptureSettings:
    """Replace the site's capture settings (one origin or domain per item); audited."""
    origins, origin_errors = _clean_lines(allowed_origins, rules.clean_origin)
    domains, domain_errors = _clean_lines(allowed_redirect_domains, rules.clean_redirect_domain)
    errors = {"allowed_origins": origin_errors, "allowed_redirect_domains": domain_errors}
    if origin_errors or domain_errors:
        raise ValidationError({k: v for k, v in errors.items() if v})
    current = CaptureSettings.objects.select_for_update().filter(pk=1).first()
    current = current or CaptureSettings(pk=1)
    new = {
        "allowed_origins": "\n".join(origins),
        "allowed_redirect_domains": "\n".join(domains),
        "honour_do_not_track": bool(honour_do_not_track),
    }
    changes = {k: [getattr(current, k), v] for k, v in new.items() if getattr(current, k) != v}
    for name, value in new.items():
        setattr(current, name, value)
    current.save()
    if changes:
        audit_record(
            actor=actor, action="capture_settings.update", object_type="capture_settings",
            object_id=current.pk, changes=changes,
        )  # fmt: skip
    return current


# ---- submissions ----------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionContext:
    """Where and how a submission arrived: the language its texts were shown in, the page
    it was posted from, that page's referrer and UTM parameters, the visitor's tracking
    id (to stitch their earlier page views), and the client's IP and user agent."""

    language: str = "ja"
    page_url: str = ""
    referrer: str = ""
    utm: dict[str, str] = field(default_factory=dict)
    visitor_key: str = ""
    ip: str | None = None
    user_agent: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class SubmitResult:
    contact: Contact
    created: bool
    submission: FormSubmission


def _split_answers(
    fields: Sequence[FormField], answers: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(contact fields, company fields, custom properties) of the answers; empty answers
    are left out so they never blank what is stored."""
    contact: dict[str, Any] = {}
    company: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for form_field in fields:
        value = answers.get(form_field.target)
        if value is None or value == "":
            continue
        if key := rules.property_key(form_field.target):
            properties[key] = value
        elif form_field.target in _COMPANY_COLUMNS:
            company[_COMPANY_COLUMNS[form_field.target]] = value
        elif form_field.target != "email":
            contact[form_field.target] = value
    return contact, company, properties


def _company_for(values: dict[str, Any]) -> Company | None:
    """Find the company the answers name, or create it.

    An existing company is only filled in where it is blank: an anonymous visitor may tell
    us what we do not know, never overwrite what sales curated.
    """
    name, domain = values.get("name", ""), values.get("domain", "")
    if not name and not domain:
        return None
    renamed = {column: target for target, column in _COMPANY_COLUMNS.items()}
    try:
        company = company_find(domain=domain, name=name)
        if company is None:
            try:
                company, _created = company_upsert(
                    actor=None, **{**values, "name": name or domain, "domain": domain}
                )
            except Conflict:
                # Another submission created it a moment ago: use that one.
                company = company_find(domain=domain, name=name)
                if company is None:
                    raise
        else:
            blanks = {k: v for k, v in values.items() if k != "name" and not getattr(company, k)}
            if blanks:
                company_update(company=company, actor=None, **blanks)
    except ValidationError as exc:
        raise ValidationError({renamed.get(k, k): v for k, v in exc.message_dict.items()}) from None
    return company


def _event_properties(
    form: WebForm, fields: Sequence[FormField], answers: Mapping[str, Any], ctx: SubmissionContext
) -> dict[str, Any]:
    """What the ``form_submit`` event keeps: every answer of the form (by target), the
    form, the page, its referrer and UTM parameters, and the language shown."""
    properties: dict[str, Any] = {"form_id": form.pk, "form_name": form.name}
    for form_field in fields:
        if form_field.target in answers:
            properties[form_field.target] = answers[form_field.target]
    if form.ask_email_opt_in:
        properties[OPT_IN] = bool(answers.get(OPT_IN))
    properties.update(
        {k: v for k, v in (("page_url", ctx.page_url), ("referrer", ctx.referrer)) if v}
    )
    properties.update({k: ctx.utm[k] for k in UTM_KEYS if ctx.utm.get(k)})
    properties["language"] = ctx.language
    return properties


def _record_event(
    form: WebForm, contact: Contact, properties: dict[str, Any], ctx: SubmissionContext
) -> None:
    """The ``form_submit`` event, through the ingestion path: carrying both the contact
    and the visitor id, it stitches the visitor's earlier anonymous page views."""
    result = events_record(
        items=[
            EventInput(
                index=0,
                client_event_id=f"form:{uuid.uuid4()}",
                type=EventType.FORM_SUBMIT,
                occurred_at=ctx.at or timezone.now(),
                properties=properties,
                contact_id=contact.pk,
                visitor_key=ctx.visitor_key,
                campaign_id=form.campaign_id,
            )
        ],
        actor=None,
    )
    if result.rejected:  # only on data this service should never pass: roll back
        raise ValidationError({"form": [str(r["message"]) for r in result.rejected]})


def _record_consents(
    form: WebForm, contact: Contact, answers: Mapping[str, Any], ctx: SubmissionContext
) -> None:
    """Consent as the Act on Specified Electronic Mail asks it kept: what was shown (in
    the language shown), when, on which page, from which IP and browser."""
    common: dict[str, Any] = {
        "contact": contact,
        "source": f"form:{form.pk}",
        "source_url": ctx.page_url,
        "ip": ctx.ip,
        "user_agent": ctx.user_agent,
        "occurred_at": ctx.at,
    }
    if form.ask_email_opt_in:
        consent_record(
            kind=ConsentKind.EMAIL_OPT_IN,
            granted=bool(answers.get(OPT_IN)),
            text=form.text("opt_in_label", ctx.language) or default_opt_in_label(ctx.language),
            **common,
        )
    if consent_text := form.text("consent_text", ctx.language):
        consent_record(kind=ConsentKind.PRIVACY_POLICY, granted=True, text=consent_text, **common)


def default_opt_in_label(language: str) -> str:
    """The opt-in checkbox's label when the marketer wrote none."""
    if language == "en":
        return "I would like to receive information by email."
    return "メールでの情報提供を希望します。"


@transaction.atomic
def webform_submit(
    *, form: WebForm, answers: Mapping[str, Any], context: SubmissionContext
) -> SubmitResult:
    """Store a visitor's submission of ``form``.

    ``answers`` are the validated values by field target (``OPT_IN`` for the opt-in
    checkbox). The contact is found by its normalised email or created (source "form");
    empty answers keep what is stored. The company is found or created, custom properties
    are merged, a ``form_submit`` event records every answer with the page, referrer,
    UTM parameters and campaign (stitching the visitor's earlier page views), consent is
    recorded, and the submission becomes the contact's first touch when nothing earlier
    is known. All or nothing.
    """
    fields = list(form.fields.all())
    email = str(answers.get("email") or "").strip()
    if not email:
        raise ValidationError({"email": _("This field is required.")})
    now = context.at or timezone.now()
    ctx = replace(context, at=now)
    contact_values, company_values, properties = _split_answers(fields, answers)
    company = _company_for(company_values)
    extra: dict[str, Any] = {"company": company} if company is not None else {}
    if properties:
        extra["properties"] = properties
    contact, created = contact_upsert(
        email=email, actor=None, source="form", via="form", **contact_values, **extra
    )
    _record_event(form, contact, _event_properties(form, fields, answers, ctx), ctx)
    _record_consents(form, contact, answers, ctx)
    contacts_stamp_first_touch(
        touches={
            contact.pk: FirstTouch(
                at=now,
                campaign_id=form.campaign_id,
                utm=dict(ctx.utm),
                url=ctx.page_url,
                referrer=ctx.referrer,
            )
        }
    )
    submission = FormSubmission.objects.create(
        form=form, contact=contact, submitted_at=now, page_url=ctx.page_url[: rules.URL_MAX]
    )
    WebForm.objects.filter(pk=form.pk).update(
        submission_count=F("submission_count") + 1, last_submitted_at=now
    )
    return SubmitResult(contact=contact, created=created, submission=submission)
