"""Every write to campaigns. Views and the API call these; both are audited."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from renkei.accounts.services import Actor, audit_record
from renkei.campaigns.models import Campaign, Channel

CAMPAIGN_FIELDS = (
    "name",
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "cost",
    "starts_on",
    "ends_on",
)


def _check(values: dict[str, Any]) -> None:
    unknown = set(values) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ValidationError({f: _("unknown field") for f in sorted(unknown)})
    if "channel" in values and values["channel"] not in Channel.values:
        raise ValidationError(
            {"channel": _("unknown channel %(value)r") % {"value": values["channel"]}}
        )
    starts, ends = values.get("starts_on"), values.get("ends_on")
    if starts and ends and ends < starts:
        raise ValidationError({"ends_on": _("Must be on or after the start date.")})


@transaction.atomic
def campaign_create(*, actor: Actor, name: str, channel: str, **data: Any) -> Campaign:
    values = {"name": name, "channel": channel, **data}
    _check(values)
    campaign = Campaign.objects.create(**values)
    audit_record(
        actor=actor, action="campaign.create", object_type="campaign", object_id=campaign.pk
    )
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, actor: Actor, **data: Any) -> Campaign:
    _check({"starts_on": campaign.starts_on, "ends_on": campaign.ends_on, **data})
    changes = {
        field: [getattr(campaign, field), value]
        for field, value in data.items()
        if getattr(campaign, field) != value
    }
    if not changes:
        return campaign
    for field, (_old, value) in changes.items():
        setattr(campaign, field, value)
    campaign.save(update_fields=list(changes))
    audit_record(
        actor=actor,
        action="campaign.update",
        object_type="campaign",
        object_id=campaign.pk,
        changes={f: [str(old), str(new)] for f, (old, new) in changes.items()},
    )
    return campaign
