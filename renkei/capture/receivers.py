"""django-cors-headers asks here whether a cross-origin request to /f/ or /t/ may be
answered: only when its origin is on the admin's list."""

import re
from typing import Any

from corsheaders.signals import check_request_enabled
from django.dispatch import receiver
from django.http import HttpRequest

from renkei.capture.models import CaptureSettings
from renkei.capture.rules import origin_allowed

# The middleware asks for every request of the site, not only the public ones: an
# allowed origin must never get CORS answers from the API or the signed-in pages.
_PUBLIC_PATHS = re.compile(r"^/(f|t)/")


@receiver(check_request_enabled, dispatch_uid="renkei.capture.cors")
def allow_configured_origins(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    origin = request.headers.get("origin", "")
    if not origin or not _PUBLIC_PATHS.match(request.path_info):
        return False
    # Asked up to twice per request (preflight check, then response headers): read once.
    cached = getattr(request, "_renkei_cors_allowed", None)
    if cached is None:
        cached = origin_allowed(origin, CaptureSettings.current().origin_list)
        request._renkei_cors_allowed = cached  # type: ignore[attr-defined]
    return bool(cached)
