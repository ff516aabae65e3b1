"""Contacts created in bulk, for event ingestion: set-based, no query per email."""

from django.db import transaction
from django.utils import timezone

from renkei.contacts.models import Contact, LifecycleStage, LifecycleTransition
from renkei.contacts.services.common import Actor, _derive_on_commit
from renkei.lib import japanese as ja


@transaction.atomic
def contacts_ensure_for_emails(*, emails: set[str], actor: Actor, source: str) -> dict[str, int]:
    """Contact ids for normalised emails, creating the missing contacts in bulk (stage lead).

    Set-based: a fixed number of queries whatever the number of emails. Used by event
    ingestion, where an event may identify a person Renkei has not seen yet. The new
    contacts' derived data (fit, journey) is queued after commit.
    """
    if not emails:
        return {}
    found = dict(
        Contact.objects.filter(email_normalized__in=emails).values_list("email_normalized", "id")
    )
    missing = emails - found.keys()
    if missing:
        now = timezone.now()
        Contact.objects.bulk_create(
            [
                Contact(
                    email=e,
                    email_normalized=e,
                    source=source,
                    search_text=ja.search_text(e),
                    lifecycle_stage=LifecycleStage.LEAD,
                    lifecycle_stage_changed_at=now,
                )
                for e in sorted(missing)
            ],
            ignore_conflicts=True,  # another request may create the same contact meanwhile
        )
        created = dict(
            Contact.objects.filter(email_normalized__in=missing, created_at__gte=now).values_list(
                "email_normalized", "id"
            )
        )
        LifecycleTransition.objects.bulk_create(
            [
                LifecycleTransition(
                    contact_id=cid,
                    from_stage="",
                    to_stage=LifecycleStage.LEAD,
                    occurred_at=now,
                    source=source,
                )
                for cid in created.values()
            ]
        )
        _derive_on_commit(created.values())  # a fit criterion may match a new lead already
        found.update(
            Contact.objects.filter(email_normalized__in=missing).values_list(
                "email_normalized", "id"
            )
        )
    return found
