"""django-cors-headers asks here whether a cross-origin request to /f/ or /t/ may be
answered: only when its origin is on the admin's list."""

from typing import Any

from corsheaders.signals import check_request_enabled
from django.dispatch import receiver
from django.http import HttpRequest

from renkei.capture.models import CaptureSettings


@receiver(check_request_enabled, dispatch_uid="renkei.capture.cors")
def allow_configured_origins(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    origin = request.headers.get("origin", "")
    return bool(origin) and origin.rstrip("/") in {
        o.rstrip("/") for o in CaptureSettings.current().origin_list
    }
