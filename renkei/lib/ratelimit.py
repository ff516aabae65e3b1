"""Rate limits of the public endpoints (forms, tracking, click redirects).

Counts live in Django's cache through django-ratelimit: per process by default, shared
between processes and hosts when ``RENKEI_CACHE_URL`` points at Redis.
"""

from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited


def public_rate_limited(request: HttpRequest, *, group: str, rate: str) -> bool:
    """Count this request against ``rate`` (e.g. "30/m") per client IP in ``group``;
    True when the limit is exceeded."""
    return is_ratelimited(request, group=group, key="ip", rate=rate, increment=True)
