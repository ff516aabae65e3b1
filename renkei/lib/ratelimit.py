"""Rate limits of the public endpoints (forms, tracking, click redirects).

Counts live in Django's cache through django-ratelimit: per process by default, shared
between processes and hosts when ``RENKEI_CACHE_URL`` points at Redis.
"""

import ipaddress
import logging
import os
import re

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

logger = logging.getLogger(__name__)

# django-ratelimit's own syntax: "10/m", "100/h", "5/10s" (count / [multiplier] period).
_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")
_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def public_rate_limited(request: HttpRequest, *, group: str, rate: str) -> bool:
    """Count this request against ``rate`` (e.g. "30/m") per client IP in ``group``;
    True when the limit is exceeded."""
    return is_ratelimited(request, group=group, key="ip", rate=rate, increment=True)


def configured_rate(name: str, default: str) -> str:
    """The rate called ``name`` from settings, else from the environment, else ``default``.

    A malformed value would make every public request fail inside django-ratelimit, so it
    is logged and the default is used instead.
    """
    value = str(getattr(settings, name, "") or os.environ.get(name, "") or default).strip()
    if _RATE.match(value) and int(value.split("/")[0]) > 0:
        return value
    logger.warning("%s=%r is not a rate like '10/m'; using %r", name, value, default)
    return default


def rate_period_seconds(rate: str) -> int:
    """The window of a rate in seconds ("10/m" → 60, "5/10s" → 10): a Retry-After value."""
    match = _RATE.match(rate)
    if not match:
        return 60
    return _PERIOD_SECONDS[match.group(3)] * int(match.group(2) or 1)


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP address as the rate limits see it (``RATELIMIT_IP_META_KEY``), or
    None when it is not a valid address."""
    key = getattr(settings, "RATELIMIT_IP_META_KEY", None) or "REMOTE_ADDR"
    value = key(request) if callable(key) else request.META.get(key, "")
    raw = str(value or "").split(",")[0].strip()
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None
