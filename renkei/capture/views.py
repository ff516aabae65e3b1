"""The marketer's pages of web forms (list, build, detail with the embed snippet and the
submissions, delete) and the admin's capture settings page.

Everyone who may view forms sees them; marketing, managers and admins change them; only
admins change the capture settings. The public endpoints are in ``public.py``.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from renkei.accounts.forms import service_errors_to_form
from renkei.capture import rules
from renkei.capture.forms import (
    CaptureSettingsForm,
    FieldFormSet,
    PublicForm,
    WebFormForm,
    field_formset_initial,
    starter_fields,
)
from renkei.capture.models import CaptureSettings, WebForm
from renkei.capture.public import HONEYPOT, LANGUAGE, PAGE_URL, REFERRER, VISITOR
from renkei.capture.selectors import (
    SubmissionCursor,
    form_submissions_page,
    webform_get,
    webforms_list,
)
from renkei.capture.services import (
    capture_settings_update,
    webform_create,
    webform_delete,
    webform_update,
)
from renkei.contacts.services import UTM_KEYS

SUBMISSIONS_PAGE_SIZE = 50


def _get_form(pk: int) -> WebForm:
    form = webform_get(pk)
    if form is None:
        raise Http404
    return form


@login_required
@permission_required("capture.view_webform", raise_exception=True)
def webform_list(request: HttpRequest) -> HttpResponse:
    return render(request, "capture/webform_list.html", {"webforms": webforms_list()})


def _save(
    request: HttpRequest, settings_form: WebFormForm, fields: Any, webform: WebForm | None
) -> WebForm | None:
    """Create or update through the services; their errors go back onto the forms."""
    data = dict(settings_form.cleaned_data)
    try:
        if webform is None:
            return webform_create(actor=request.user, fields=fields.specs(), **data)
        return webform_update(form=webform, actor=request.user, fields=fields.specs(), **data)
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "fields" in exc.error_dict:
            fields.service_errors = ValidationError(exc.error_dict.pop("fields")).messages
        if not hasattr(exc, "error_dict") or exc.error_dict:
            service_errors_to_form(settings_form, exc)
        return None


def _builder(request: HttpRequest, webform: WebForm | None) -> HttpResponse:
    if request.method == "POST":
        settings_form = WebFormForm(request.POST)
        fields = FieldFormSet(request.POST, prefix="fields")
        if settings_form.is_valid() and fields.is_valid():
            saved = _save(request, settings_form, fields, webform)
            if saved is not None:
                messages.success(request, _("The form was saved."))
                return redirect("capture:detail", pk=saved.pk)
    elif webform is None:
        settings_form = WebFormForm(initial={"is_active": True})
        fields = FieldFormSet(prefix="fields", initial=starter_fields())
    else:
        settings_form = WebFormForm(initial=WebFormForm.initial_for(webform))
        fields = FieldFormSet(prefix="fields", initial=field_formset_initial(webform))
    context = {"form": settings_form, "fields": fields, "webform": webform}
    return render(request, "capture/webform_form.html", context)


@login_required
@permission_required("capture.add_webform", raise_exception=True)
def webform_new(request: HttpRequest) -> HttpResponse:
    return _builder(request, None)


@login_required
@permission_required("capture.change_webform", raise_exception=True)
def webform_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _builder(request, _get_form(pk))


def snippet(request: HttpRequest, webform: WebForm, language: str) -> str:
    """The HTML a marketer pastes into a site: a plain form posting to Renkei, with the
    honeypot, the hidden inputs the tracking script fills, and that script."""
    with translation.override(language):
        form = PublicForm(webform=webform, language=language, auto_id=f"rk-{language}-%s")
        return render_to_string(
            "capture/snippet.html",
            {
                "webform": webform,
                "form": form,
                "lang": language,
                "action": request.build_absolute_uri(reverse("capture:submit", args=[webform.key])),
                "script": request.build_absolute_uri("/t/renkei.js"),
                "consent_text": webform.text("consent_text", language),
                "honeypot": HONEYPOT,
                "hidden": [VISITOR, PAGE_URL, REFERRER, *UTM_KEYS],
                "language_input": LANGUAGE,
            },
        ).strip()


@login_required
@permission_required("capture.view_webform", raise_exception=True)
def webform_detail(request: HttpRequest, pk: int) -> HttpResponse:
    webform = _get_form(pk)
    before = None
    if raw := request.GET.get("before"):
        try:
            before = SubmissionCursor.parse(raw)
        except ValueError:
            before = None  # a damaged link shows the newest page rather than an error
    submissions, next_cursor = form_submissions_page(
        webform, before=before, limit=SUBMISSIONS_PAGE_SIZE
    )
    hosted = request.build_absolute_uri(reverse("capture:form", args=[webform.key]))
    redirect_ok = not webform.redirect_url or rules.redirect_allowed(
        webform.redirect_url, CaptureSettings.current().redirect_domain_list
    )
    context: dict[str, Any] = {
        "webform": webform,
        "fields": list(webform.fields.all()),
        "snippets": [(code, snippet(request, webform, code)) for code in ("ja", "en")],
        "hosted": [(code, f"{hosted}?lang={code}") for code in ("ja", "en")],
        "iframe": f'<iframe src="{escape(hosted)}" title="{escape(webform.name)}" width="100%" '
        'height="720" style="border:0" loading="lazy"></iframe>',
        "submissions": submissions,
        "next_cursor": next_cursor,
        "paged": before is not None,
        "redirect_ok": redirect_ok,
    }
    return render(request, "capture/webform_detail.html", context)


@login_required
@permission_required("capture.delete_webform", raise_exception=True)
def webform_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    webform = _get_form(pk)
    if request.method == "POST":
        webform_delete(form=webform, actor=request.user)
        messages.success(request, _("The form was deleted. Its contacts and events remain."))
        return redirect("capture:list")
    return render(request, "capture/webform_confirm_delete.html", {"webform": webform})


@login_required
@permission_required("capture.change_capturesettings", raise_exception=True)
def capture_settings_view(request: HttpRequest) -> HttpResponse:
    current = CaptureSettings.current()
    if request.method != "POST":
        form = CaptureSettingsForm(initial=CaptureSettingsForm.initial_for(current))
    else:
        form = CaptureSettingsForm(request.POST)
        if form.is_valid():
            try:
                capture_settings_update(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                service_errors_to_form(form, exc)
            else:
                messages.success(request, _("The capture settings were saved."))
                return redirect("capture:settings")
    return render(request, "capture/capture_settings.html", {"form": form})
