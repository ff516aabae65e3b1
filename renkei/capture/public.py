"""The public endpoints of web forms: the hosted form page, the submission handler that
embedded forms and scripts post to, and the thank-you page.

No login and no CSRF token (other sites post here, as to any form handler); every request
is rate-limited per IP instead. JSON posts are accepted only from the origins an admin
allowed; plain HTML form posts from anywhere. The form pages may be framed by any site
(``xframe_options_exempt``); every other Renkei page stays ``DENY``.
"""

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from renkei.capture import rules
from renkei.capture.forms import StyledPublicForm
from renkei.capture.models import CaptureSettings, WebForm
from renkei.capture.selectors import webform_public
from renkei.capture.services import SubmissionContext, webform_submit
from renkei.contacts.services import UTM_KEYS
from renkei.lib.ratelimit import (
    client_ip,
    configured_rate,
    public_rate_limited,
    rate_period_seconds,
)

# Hidden inputs every form carries. The tracking script (/t/renkei.js) fills the visitor
# id and the page URL; the honeypot is left empty by people and filled by bots.
HONEYPOT = "_rk_website"
VISITOR = "_rk_vid"
PAGE_URL = "_rk_url"
REFERRER = "_rk_ref"
LANGUAGE = "_rk_lang"
LANGUAGES = ("ja", "en")
# Added by the tracking script to links into Renkei: a signed identity and the visitor id.
IDENTITY_PARAMS = ("_rk", "_rkv")
UTM_MAX = 200
_VISITOR_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

# Submissions per IP; page views of hosted forms per IP (settings or environment).
SUBMIT_RATE = ("RENKEI_FORM_RATE", "10/m")
PAGE_RATE = ("RENKEI_FORM_PAGE_RATE", "60/m")


# ---- helpers ---------------------------------------------------------------------------


def _language(request: HttpRequest, data: Any = None) -> str:
    """The visitor's language: the form's own hidden input, ``?lang=``, else the browser's
    Accept-Language (Japanese unless it prefers English)."""
    for candidate in (data.get(LANGUAGE) if data is not None else None, request.GET.get("lang")):
        if isinstance(candidate, str) and candidate in LANGUAGES:
            return candidate
    preferred = translation.get_language_from_request(request)
    return "en" if preferred.startswith("en") else "ja"


def _rate_limited(request: HttpRequest, setting: tuple[str, str], group: str) -> int:
    """0 when the request is within its rate, else the seconds to wait (Retry-After)."""
    rate = configured_rate(*setting)
    if public_rate_limited(request, group=group, rate=rate):
        return rate_period_seconds(rate)
    return 0


def _too_many(request: HttpRequest, wait: int, as_json: bool, language: str) -> HttpResponse:
    with translation.override(language):
        message = _("Too many requests from your network. Please try again in a minute.")
        if as_json:
            response: HttpResponse = JsonResponse(
                {"ok": False, "errors": {"__all__": [message]}}, status=429
            )
        else:
            response = render(
                request,
                "capture/public/message.html",
                {"lang": language, "title": _("Please wait"), "message": message},
                status=429,
            )
    response["Retry-After"] = str(wait)
    return response


def _url_or_blank(value: Any) -> str:
    """A page URL worth keeping: absolute http(s), at most 2,000 characters, without the
    tracking script's identity parameters (a signed identity must never be stored)."""
    text = value.strip() if isinstance(value, str) else ""
    return _without_identity(text) if rules.redirect_host(text) else ""


def _without_identity(url: str) -> str:
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if k not in IDENTITY_PARAMS]
    if len(kept) == len(pairs):
        return url
    return urlunsplit(parts._replace(query=urlencode(kept)))


def _utm(data: Any, page_url: str) -> dict[str, str]:
    """UTM parameters posted with the form, else those of the page's own URL."""
    posted = {k: data.get(k) for k in UTM_KEYS}
    found = {k: v.strip()[:UTM_MAX] for k, v in posted.items() if isinstance(v, str) and v.strip()}
    if found or not page_url:
        return found
    query = dict(parse_qsl(urlsplit(page_url).query))
    return {k: query[k].strip()[:UTM_MAX] for k in UTM_KEYS if query.get(k, "").strip()}


def _tracking_refused(request: HttpRequest, settings: CaptureSettings) -> bool:
    return settings.honour_do_not_track and (
        request.headers.get("DNT") == "1" or request.headers.get("Sec-GPC") == "1"
    )


def _context(
    request: HttpRequest, data: Any, language: str, settings: CaptureSettings
) -> SubmissionContext:
    """Where the submission came from. Hidden inputs a visitor (or a bot) can forge are
    only kept when well-formed; the page falls back to the Referer header."""
    page_url = _url_or_blank(data.get(PAGE_URL)) or _url_or_blank(request.headers.get("Referer"))
    visitor = data.get(VISITOR)
    if not isinstance(visitor, str) or not _VISITOR_KEY.match(visitor):
        visitor = ""
    if _tracking_refused(request, settings):
        visitor = ""  # the visitor asked not to be tracked: do not join their history
    return SubmissionContext(
        language=language,
        page_url=page_url,
        referrer=_url_or_blank(data.get(REFERRER)),
        utm=_utm(data, page_url),
        visitor_key=visitor,
        ip=client_ip(request),
        user_agent=request.headers.get("User-Agent", "")[:500],
    )


def _hidden_inputs(request: HttpRequest, language: str, data: Any = None) -> dict[str, str]:
    """The hidden inputs of the hosted page: what was posted (a form shown again after an
    error), else this page's URL, referrer and UTM parameters for visitors without
    JavaScript."""
    if data is not None:
        keys = (VISITOR, PAGE_URL, REFERRER, *UTM_KEYS)
        found = {k: data.get(k) for k in keys}
        hidden = {k: v[:2000] for k, v in found.items() if isinstance(v, str)}
    else:
        visitor = request.GET.get("_rkv", "")
        hidden = {
            # Without JavaScript, the visitor id the script put on the link still stitches.
            VISITOR: visitor if _VISITOR_KEY.match(visitor) else "",
            PAGE_URL: _without_identity(request.build_absolute_uri())[:2000],
            REFERRER: request.headers.get("Referer", "")[:2000],
            **{k: request.GET.get(k, "")[:UTM_MAX] for k in UTM_KEYS},
        }
    hidden[LANGUAGE] = language
    return hidden


def _switch_query(request: HttpRequest, language: str) -> str:
    """This page's query string with the other language."""
    query = request.GET.copy()
    query["lang"] = "en" if language == "ja" else "ja"
    return query.urlencode()


def _render_form(
    request: HttpRequest,
    webform: WebForm,
    form: StyledPublicForm,
    language: str,
    data: Any = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "webform": webform,
        "form": form,
        "lang": language,
        "title": webform.text("title", language) or webform.name,
        "consent_text": webform.text("consent_text", language),
        "hidden": _hidden_inputs(request, language, data),
        "honeypot": HONEYPOT,
        "switch_query": _switch_query(request, language),
        "action": reverse("capture:submit", args=[webform.key]),
    }
    response = render(request, "capture/public/form.html", context, status=status)
    response["Content-Language"] = language
    return response


# ---- the hosted form page --------------------------------------------------------------


@xframe_options_exempt
@require_GET
def form_page(request: HttpRequest, key: str) -> HttpResponse:
    """The hosted form, in Japanese or English; it works without JavaScript."""
    language = _language(request)
    if wait := _rate_limited(request, PAGE_RATE, "capture.form_page"):
        return _too_many(request, wait, False, language)
    webform = webform_public(key)
    if webform is None:
        raise Http404
    with translation.override(language):
        form = StyledPublicForm(webform=webform, language=language)
        return _render_form(request, webform, form, language)


@xframe_options_exempt
@require_GET
def thanks_page(request: HttpRequest, key: str) -> HttpResponse:
    """The thank-you message shown after a submission (when the form has no redirect)."""
    language = _language(request)
    if wait := _rate_limited(request, PAGE_RATE, "capture.form_page"):
        return _too_many(request, wait, False, language)
    webform = webform_public(key)
    if webform is None:
        raise Http404
    with translation.override(language):
        context = {
            "lang": language,
            "title": webform.text("title", language) or webform.name,
            "message": _thanks_message(webform, language),
        }
        response = render(request, "capture/public/message.html", context)
    response["Content-Language"] = language
    return response


def _thanks_message(webform: WebForm, language: str) -> str:
    return webform.text("thanks_message", language) or _("Thank you. We have received your entry.")


# ---- the submission handler ------------------------------------------------------------


class _BadBody(Exception):
    """The request body is not something a form handler accepts (status, message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _is_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json"


def _json_data(request: HttpRequest) -> dict[str, Any]:
    """The JSON body as form data: an object whose answers are text, numbers or booleans."""
    try:
        data = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise _BadBody(400, _("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise _BadBody(400, _("The request body must be a JSON object."))
    return data


def _json_type_errors(data: dict[str, Any], form: StyledPublicForm) -> dict[str, list[str]]:
    """Answers that are lists or objects: a form field takes a single value."""
    return {
        name: [_("Must be a single value (text, number or true/false).")]
        for name in form.fields
        if isinstance(data.get(name), list | dict)
    }


def _origin_allowed(request: HttpRequest, settings: CaptureSettings) -> bool:
    """JSON posts come from scripts, which browsers let any site send: only the allowed
    origins (and Renkei's own pages) may use them, whatever CORS answered."""
    origin = request.headers.get("Origin", "")
    own = f"{request.scheme}://{request.get_host()}"
    return rules.origin_allowed(origin, [*settings.origin_list, own])


def _success(
    webform: WebForm, language: str, as_json: bool, settings: CaptureSettings
) -> HttpResponse:
    """A 201 with the message (JSON), or a 303 to the form's redirect (when its domain is
    still allowed) or to the thank-you page."""
    target = webform.redirect_url
    if target and not rules.redirect_allowed(target, settings.redirect_domain_list):
        target = ""  # the admin withdrew the domain since the form was saved
    if as_json:
        body = {
            "ok": True,
            "message": _thanks_message(webform, language),
            "redirect": target or None,
        }
        return JsonResponse(body, status=201)
    if not target:
        target = reverse("capture:thanks", args=[webform.key]) + "?" + urlencode({"lang": language})
    response = HttpResponse(status=303)
    response["Location"] = target
    return response


def _errors(
    request: HttpRequest,
    webform: WebForm,
    form: StyledPublicForm,
    language: str,
    data: Any,
    as_json: bool,
    errors: dict[str, list[str]],
) -> HttpResponse:
    if as_json:
        return JsonResponse({"ok": False, "errors": errors}, status=400)
    return _render_form(request, webform, form, language, data=data, status=400)


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def form_submit(request: HttpRequest, key: str) -> HttpResponse:
    """Accept a submission posted as an HTML form (303 or the form again with its errors,
    400) or as JSON from an allowed origin (201 or 400 with ``errors`` by field)."""
    if request.method == "GET":
        # A reload of the page showing errors, or a link: the form itself.
        return redirect("capture:form", key=key)
    as_json = _is_json(request)
    language = _language(request)
    if wait := _rate_limited(request, SUBMIT_RATE, "capture.form_submit"):
        return _too_many(request, wait, as_json, language)
    webform = webform_public(key)
    if webform is None:
        if as_json:
            return JsonResponse({"ok": False, "errors": {"form": [_("No such form.")]}}, status=404)
        raise Http404
    settings = CaptureSettings.current()
    try:
        data = _request_data(request, settings, as_json)
    except _BadBody as exc:
        return _bad_request(request, exc, as_json, language)
    language = _language(request, data)
    with translation.override(language):
        return _handle(request, webform, settings, data, language, as_json)


def _request_data(request: HttpRequest, settings: CaptureSettings, as_json: bool) -> Any:
    if as_json:
        if not _origin_allowed(request, settings):
            raise _BadBody(403, _("This site may not post this form."))
        return _json_data(request)
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return request.POST
    raise _BadBody(415, _("Send the form as an HTML form post or as JSON."))


def _bad_request(request: HttpRequest, exc: _BadBody, as_json: bool, language: str) -> HttpResponse:
    with translation.override(language):
        if as_json:
            return JsonResponse({"ok": False, "errors": {"__all__": [str(exc)]}}, status=exc.status)
        context = {"lang": language, "title": _("Not accepted"), "message": str(exc)}
        return render(request, "capture/public/message.html", context, status=exc.status)


def _handle(
    request: HttpRequest,
    webform: WebForm,
    settings: CaptureSettings,
    data: dict[str, Any] | QueryDict,
    language: str,
    as_json: bool,
) -> HttpResponse:
    if data.get(HONEYPOT):
        # A bot: answer as if it worked so it learns nothing, and store nothing.
        return _success(webform, language, as_json, settings)
    form = StyledPublicForm(data, webform=webform, language=language)
    if as_json and (type_errors := _json_type_errors(data, form)):  # type: ignore[arg-type]
        return JsonResponse({"ok": False, "errors": type_errors}, status=400)
    if not form.is_valid():
        errors = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        return _errors(request, webform, form, language, data, as_json, errors)
    try:
        webform_submit(
            form=webform,
            answers=form.answers(),
            context=_context(request, data, language, settings),
        )
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
        errors = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        return _errors(request, webform, form, language, data, as_json, errors)
    return _success(webform, language, as_json, settings)
