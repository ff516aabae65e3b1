"""Telling reps and managers: email (Django mail) and outgoing Slack-compatible webhooks.

Webhooks are sent by a task (``tasks.webhook_deliver``) with a short timeout and retried
with exponential back-off; a slow or failing endpoint never blocks a hand-off. They never
target loopback, private, link-local or reserved addresses unless the admin sets
``RENKEI_WEBHOOK_ALLOW_PRIVATE=true`` (an internal chat server, tests). The host is
resolved and checked before every attempt, and redirects are not followed.
"""

import hashlib
import ipaddress
import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from renkei.accounts.roles import MANAGER
from renkei.contacts.models import Contact
from renkei.handoff.models import Assignment, RepSettings, WebhookDelivery
from renkei.scoring.explain import contact_score_explain

WEBHOOK_MAX_ATTEMPTS = 5
WEBHOOK_BACKOFF_SECONDS = 30  # 30 s, 60 s, 120 s, 240 s between attempts


class WebhookError(Exception):
    pass


def webhook_url_check(url: str) -> None:
    """Refuse URLs that are not http(s) or whose host resolves to a non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(_("a webhook URL starts with https:// and names a host"))
    if getattr(settings, "RENKEI_WEBHOOK_ALLOW_PRIVATE", False):
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise ValidationError(
            _("the host %(host)s cannot be resolved") % {"host": parts.hostname}
        ) from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global or address.is_multicast:
            raise ValidationError(
                _("%(host)s is a private or local address; webhooks go to public hosts only")
                % {"host": parts.hostname}
            )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect could point inside the network: treat it as an answer


def webhook_post(url: str, payload: dict[str, Any]) -> None:
    """POST the JSON payload; raise WebhookError unless the answer is 2xx."""
    try:
        webhook_url_check(url)
    except ValidationError as exc:
        raise WebhookError(" ".join(exc.messages)) from None
    timeout = getattr(settings, "RENKEI_WEBHOOK_TIMEOUT", 5)
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "Renkei"},
        method="POST",
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"HTTP {exc.code}") from None
    except (OSError, ValueError) as exc:  # timeouts, refused connections, bad URLs
        raise WebhookError(str(exc) or exc.__class__.__name__) from None
    if not 200 <= status < 300:
        raise WebhookError(f"HTTP {status}")


def _key(kind: str, ref: Any, url: str) -> str:
    return f"{kind}:{ref}:{hashlib.sha256(url.encode()).hexdigest()[:16]}"


def webhooks_schedule(messages: list[tuple[str, str, dict[str, Any]]]) -> list[int]:
    """Store (key, url, payload) deliveries once each and queue them after commit."""
    if not messages:
        return []
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(key=k, url=u, payload=p) for k, u, p in messages], ignore_conflicts=True
    )
    ids = list(
        WebhookDelivery.objects.filter(
            key__in=[k for k, _u, _p in messages], attempts=0, status="pending"
        ).values_list("pk", flat=True)
    )

    def enqueue() -> None:
        from renkei.handoff.tasks import webhook_deliver

        for pk in ids:
            webhook_deliver.enqueue(pk)

    transaction.on_commit(enqueue)
    return ids


def _deadlines(contact_ids: list[int]) -> dict[int, datetime]:
    """SLA deadlines from the sla app when it is installed (none otherwise)."""
    try:
        from renkei.sla.selectors import clock_deadlines
    except ImportError:
        return {}
    if not _sla_installed():
        return {}
    return clock_deadlines(contact_ids)


def _sla_installed() -> bool:
    from django.apps import apps

    return apps.is_installed("renkei.sla")


@dataclass
class LeadMessage:
    subject: str
    body: str
    payload: dict[str, Any]


def _contact_line(contact: Contact) -> str:
    company = contact.company.name if contact.company else ""
    return " / ".join(p for p in (str(contact), company, contact.title) if p)


def _site(path: str) -> str:
    return getattr(settings, "RENKEI_SITE_URL", "").rstrip("/") + path


def lead_message(contact: Contact, deadline: datetime | None, headline: str) -> LeadMessage:
    """The text of a hand-off or breach notice: who, why they qualified, the deadline."""
    summary = contact_score_explain(contact).summary
    url = _site(reverse("contacts:detail", args=[contact.pk]))
    lines = [headline, _contact_line(contact), _("Why: %(summary)s") % {"summary": summary}]
    if deadline is not None:
        due = timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")
        lines.append(_("SLA deadline: %(due)s") % {"due": due})
    lines.append(url)
    text = "\n".join(lines)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{headline}*\n{lines[1]}"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": lines[2]}},
    ]
    if deadline is not None:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": lines[3]}]})
    return LeadMessage(
        subject=f"[Renkei] {headline}: {_contact_line(contact)}",
        body=text,
        payload={"text": text, "blocks": blocks},
    )


def _webhook_urls(user_ids: set[int]) -> dict[int, list[str]]:
    """Each user's webhook URLs: their own and their team's (both, when both are set)."""
    urls: dict[int, list[str]] = {}
    for row in RepSettings.objects.filter(user_id__in=user_ids).select_related("team"):
        found = [u for u in (row.webhook_url, row.team.webhook_url if row.team else "") if u]
        urls[row.user_id] = list(dict.fromkeys(found))
    return urls


def _send_mail(messages: list[EmailMessage]) -> None:
    if not messages:
        return
    with get_connection(fail_silently=False) as connection:
        connection.send_messages(messages)


def assignments_notify(assignment_ids: list[int]) -> int:
    """Email each rep their new leads and schedule the webhooks. Returns emails sent.

    Queries: a fixed number, plus the score explanation per lead (a few each).
    """
    assignments = list(
        Assignment.objects.filter(pk__in=assignment_ids)
        .select_related("user", "contact", "contact__company")
        .order_by("id")
    )
    deadlines = _deadlines([a.contact_id for a in assignments])
    urls = _webhook_urls({a.user_id for a in assignments})
    mails, hooks = [], []
    with translation.override(settings.LANGUAGE_CODE):
        for a in assignments:
            message = lead_message(
                a.contact, deadlines.get(a.contact_id), _("New lead assigned to you")
            )
            if a.user.email:
                mails.append(
                    EmailMessage(message.subject, message.body, to=[a.user.email])  # type: ignore[attr-defined]
                )
            for url in urls.get(a.user_id, []):
                hooks.append((_key("assigned", a.pk, url), url, message.payload))
    with transaction.atomic():
        webhooks_schedule(hooks)
    _send_mail(mails)
    return len(mails)


def managers_of(user_id: int) -> list[Any]:
    """Who an escalation goes to: the rep's team manager, else every active manager."""
    users = get_user_model().objects.filter(is_active=True)
    row = RepSettings.objects.filter(user_id=user_id).select_related("team__manager").first()
    if row and row.team and row.team.manager and row.team.manager.is_active:
        return [row.team.manager]
    return list(users.filter(groups__name=MANAGER).exclude(pk=user_id).order_by("pk"))


def breach_notify(
    *, breach_id: int, contact_id: int, user_id: int, kind: str, due_at: datetime
) -> int:
    """Tell the rep that an SLA clock ran out, and escalate to their manager."""
    contact = Contact.objects.select_related("company").filter(pk=contact_id).first()
    rep = get_user_model().objects.filter(pk=user_id).first()
    if contact is None or rep is None:
        return 0
    managers = managers_of(user_id)
    mails, hooks = [], []
    with translation.override(settings.LANGUAGE_CODE):
        headline = _("SLA breached (%(kind)s)") % {"kind": kind}
        message = lead_message(contact, due_at, headline)
        to_rep = [rep.email] if rep.email else []  # type: ignore[attr-defined]
        if to_rep:
            mails.append(EmailMessage(message.subject, message.body, to=to_rep))
        escalated = [m.email for m in managers if m.email]
        if escalated:
            body = _("Escalated: %(rep)s missed this deadline.") % {"rep": rep.get_username()}
            mails.append(EmailMessage(message.subject, body + "\n\n" + message.body, to=escalated))
        urls = _webhook_urls({user_id, *(m.pk for m in managers)})
        for url in dict.fromkeys(u for found in urls.values() for u in found):
            hooks.append((_key("breach", breach_id, url), url, message.payload))
    with transaction.atomic():
        webhooks_schedule(hooks)
    _send_mail(mails)
    return len(mails)
