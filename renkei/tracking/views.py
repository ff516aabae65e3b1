"""Tracking endpoints under /t/: the script, the collector, tracked-link redirects (all
public, rate-limited per IP) and the setup page for signed-in users.

Who may post to ``/t/collect``: a request whose ``Origin`` is Renkei's own origin or one
of the admin's allowed origins (``CaptureSettings.allowed_origins``). Browsers send Origin
with every POST, beacons included; a request without one is accepted only when the
browser says it is same-origin (``Sec-Fetch-Site: same-origin``), so scripts on other
sites cannot post through browsers that hide the Origin. ``Origin: null`` (sandboxed
frames, file pages) is refused.
"""

from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from renkei.capture.models import CaptureSettings
from renkei.lib.ratelimit import configured_rate, public_rate_limited
from renkei.tracking.collect import BODY_MAX_BYTES, CollectError, collect_parse
from renkei.tracking.forms import TrackedLinkForm
from renkei.tracking.services import (
    tracked_link_click,
    tracked_link_read,
    tracked_link_url,
    tracking_collect,
)

SCRIPT_MAX_AGE = 300  # seconds: a changed DNT setting reaches browsers within 5 minutes


def _too_many(request: HttpRequest, group: str, setting: str, default: str) -> bool:
    # configured_rate: a malformed setting is logged and the default used, never a 500.
    return public_rate_limited(request, group=group, rate=configured_rate(setting, default))


@require_GET
def script(request: HttpRequest) -> HttpResponse:
    """The tracking script, with the admin's Do Not Track choice written into it."""
    honour = CaptureSettings.current().honour_do_not_track
    text = render_to_string("tracking/renkei.js", {"honour_do_not_track": honour})
    # Indentation and blank lines are only for readers: without them the script stays
    # under 4 KB. Line breaks are kept, so the code means the same.
    compact = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    response = HttpResponse(compact + "\n", content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={SCRIPT_MAX_AGE}"
    return response


@csrf_exempt  # posted by pages on other sites; no cookie or session is ever used
@require_POST
def collect(request: HttpRequest) -> HttpResponse:
    """A batch of events from the tracking script: 204 when recorded (or dropped for Do
    Not Track), 400 naming the field, 403 for an origin not allowed, 413, 429."""
    if _too_many(request, "tracking.collect", "RENKEI_TRACKING_COLLECT_RATE", "300/m"):
        return _error(429, "", _("Too many requests from this address; try again later."))
    capture = CaptureSettings.current()
    if not _origin_allowed(request, capture):
        return _error(403, "origin", _("This site may not send tracking data to Renkei."))
    if capture.honour_do_not_track and _opted_out(request):
        return HttpResponse(status=204)  # accepted and dropped: nothing is stored
    if _content_length(request) > BODY_MAX_BYTES or len(request.body) > BODY_MAX_BYTES:
        return _error(413, "body", _("The batch is larger than 64 KB."))
    try:
        batch = collect_parse(request.body)
    except CollectError as exc:
        return _error(400, exc.field, str(exc))
    tracking_collect(visitor_id=batch.visitor_id, events=batch.events, identity=batch.identity)
    return HttpResponse(status=204)


def _error(status: int, field: str, detail: str) -> JsonResponse:
    return JsonResponse({"field": field, "detail": detail}, status=status)


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _origin_allowed(request: HttpRequest, capture: CaptureSettings) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return request.headers.get("Sec-Fetch-Site") == "same-origin"
    origin = origin.strip().rstrip("/").lower()
    if origin == f"{request.scheme}://{request.get_host()}".lower():
        return True
    return origin in {o.rstrip("/").lower() for o in capture.origin_list}


def _opted_out(request: HttpRequest) -> bool:
    return request.headers.get("DNT") == "1" or request.headers.get("Sec-GPC") == "1"


@require_GET
def click(request: HttpRequest, token: str) -> HttpResponse:
    """A tracked link: record the click, redirect to the destination signed in the token.

    A token we did not sign (or that was altered) is a 404, never a redirect: the
    destination comes only from the signature, so this is no open redirect.
    """
    if _too_many(request, "tracking.click", "RENKEI_TRACKING_CLICK_RATE", "120/m"):
        return HttpResponse(
            _("Too many requests from this address; try again later."),
            status=429,
            content_type="text/plain; charset=utf-8",
        )
    link = tracked_link_read(token)
    if link is None:
        raise Http404
    response = HttpResponseRedirect(tracked_link_click(link=link))
    response["Cache-Control"] = "no-store"  # every click is recorded, and the token is personal
    return response


@login_required
@permission_required("events.view_visitor", raise_exception=True)
def setup(request: HttpRequest) -> HttpResponse:
    """How to install the snippet, the current capture settings, and a tracked-link
    builder for users who may record events."""
    capture = CaptureSettings.current()
    context: dict[str, Any] = {
        "script_url": request.build_absolute_uri(reverse("tracking:script")),
        "capture": capture,
        "link_form": None,
        "tracked_link": "",
    }
    if request.user.has_perm("events.add_event"):
        form = TrackedLinkForm(request.GET if "url" in request.GET else None)
        if form.is_valid():
            context["tracked_link"] = tracked_link_url(
                url=form.cleaned_data["url"],
                contact_id=form.cleaned_data["contact_id"],
                campaign_id=form.cleaned_data["campaign"].pk
                if form.cleaned_data["campaign"]
                else None,
                base=request.build_absolute_uri("/").rstrip("/"),
                event_type=form.cleaned_data["event_type"],
            )
        context["link_form"] = form
    return render(request, "tracking/setup.html", context)
