"""Every write of the journey app: stage edits (validated, audited) and the contact refresh."""

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from renkei.accounts.services import Actor, audit_record
from renkei.campaigns.models import Campaign
from renkei.contacts.models import Contact, LifecycleStage
from renkei.journey.entry_signals import signal_clean, signal_condition
from renkei.journey.models import ContactJourney, JourneyStage

# Contacts per refresh chunk: a few queries each, whatever the number of contacts.
REFRESH_CHUNK = 5000
NAME_MAX = 100


def _errors_for(fields: dict[str, Any], stage: JourneyStage | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    others = JourneyStage.objects.all()
    if stage is not None:
        others = others.exclude(pk=stage.pk)
    for key in ("name", "name_en"):
        if len(fields[key].strip()) > NAME_MAX:
            errors[key] = [_("At most %(count)s characters.") % {"count": NAME_MAX}]
    if not fields["name"].strip():
        errors["name"] = [_("Enter a name.")]
    elif others.filter(name=fields["name"].strip()).exists():
        errors["name"] = [_("Another journey stage already has this name.")]
    if fields["name_en"].strip() and others.filter(name_en=fields["name_en"].strip()).exists():
        errors["name_en"] = [_("Another journey stage already has this English name.")]
    # Stages form one path by position: a shared position would make the order ambiguous.
    position = fields["position"]
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= 32767:
        errors["position"] = [_("The position must be a whole number from 0 to 32767.")]
    elif others.filter(position=fields["position"]).exists():
        errors["position"] = [
            _(
                "Another journey stage already has position %(position)s: "
                "the order would be ambiguous."
            )
            % {"position": fields["position"]}
        ]
    unknown = [s for s in fields["lifecycle_stages"] if s not in LifecycleStage.values]
    if unknown:
        errors["lifecycle_stages"] = [
            _("Unknown lifecycle stage “%(stage)s”.") % {"stage": s} for s in unknown
        ]
    return errors


def _clean_signals(raw: Sequence[Any], errors: dict[str, list[str]]) -> list[dict[str, str]]:
    cleaned = []
    for number, signal in enumerate(raw, start=1):
        try:
            cleaned.append(signal_clean(signal))
        except ValidationError as exc:
            errors.setdefault("entry_signals", []).extend(
                _("Signal %(number)s: %(error)s") % {"number": number, "error": m}
                for m in exc.messages
            )
    return cleaned


def _clean_content(raw: Sequence[Any], errors: dict[str, list[str]]) -> list[dict[str, str]]:
    cleaned = []
    for number, note in enumerate(raw, start=1):
        title = str(note.get("title", "")).strip() if isinstance(note, dict) else ""
        url = str(note.get("url", "")).strip() if isinstance(note, dict) else ""
        # Only web links: a javascript: URL would run in every reader's browser.
        if url and urlsplit(url).scheme not in ("http", "https"):
            errors.setdefault("content_notes", []).append(
                _("Content %(number)s: the URL must start with http:// or https://.")
                % {"number": number}
            )
        elif not title and not url:
            errors.setdefault("content_notes", []).append(
                _("Content %(number)s: give a title or a URL.") % {"number": number}
            )
        else:
            cleaned.append({"title": title[:200], "url": url[:500]})
    return cleaned


def _validated(fields: dict[str, Any], stage: JourneyStage | None) -> dict[str, Any]:
    errors = _errors_for(fields, stage)
    signals = _clean_signals(fields["entry_signals"], errors)
    content = _clean_content(fields["content_notes"], errors)
    campaign_ids = sorted(set(fields["campaign_ids"]))
    found = set(Campaign.objects.filter(pk__in=campaign_ids).values_list("pk", flat=True))
    if missing := [c for c in campaign_ids if c not in found]:
        errors["campaigns"] = [_("Campaign %(id)s does not exist.") % {"id": c} for c in missing]
    if errors:
        raise ValidationError(errors)
    return {
        "name": fields["name"].strip(),
        "name_en": fields["name_en"].strip(),
        "position": fields["position"],
        "description": fields["description"].strip(),
        # Kept in the funnel's order whatever order the caller used.
        "lifecycle_stages": [s for s in LifecycleStage.values if s in fields["lifecycle_stages"]],
        "entry_signals": signals,
        "content_notes": content,
        "campaign_ids": campaign_ids,
    }


def _snapshot(stage: JourneyStage, campaign_ids: list[int]) -> dict[str, Any]:
    return {
        "name": stage.name,
        "name_en": stage.name_en,
        "position": stage.position,
        "description": stage.description,
        "lifecycle_stages": stage.lifecycle_stages,
        "entry_signals": stage.entry_signals,
        "content_notes": stage.content_notes,
        "campaign_ids": campaign_ids,
    }


@transaction.atomic
def journey_stage_create(
    *,
    actor: Actor,
    name: str,
    position: int,
    name_en: str = "",
    description: str = "",
    lifecycle_stages: Sequence[str] = (),
    entry_signals: Sequence[Any] = (),
    campaign_ids: Iterable[int] = (),
    content_notes: Sequence[Any] = (),
) -> JourneyStage:
    """Add a journey stage; raises ValidationError naming each bad field."""
    data = _validated(
        {
            "name": name,
            "name_en": name_en,
            "position": position,
            "description": description,
            "lifecycle_stages": list(lifecycle_stages),
            "entry_signals": list(entry_signals),
            "campaign_ids": list(campaign_ids),
            "content_notes": list(content_notes),
        },
        None,
    )
    campaigns = data.pop("campaign_ids")
    stage = JourneyStage.objects.create(**data)
    stage.campaigns.set(campaigns)
    audit_record(
        actor=actor,
        action="journey_stage.create",
        object_type="journey.journeystage",
        object_id=stage.pk,
        changes={k: [None, v] for k, v in _snapshot(stage, campaigns).items()},
    )
    return stage


@transaction.atomic
def journey_stage_update(
    *,
    actor: Actor,
    stage: JourneyStage,
    name: str,
    position: int,
    name_en: str = "",
    description: str = "",
    lifecycle_stages: Sequence[str] = (),
    entry_signals: Sequence[Any] = (),
    campaign_ids: Iterable[int] = (),
    content_notes: Sequence[Any] = (),
) -> JourneyStage:
    """Replace a stage's definition; audits the fields that changed (old, new)."""
    stage = JourneyStage.objects.select_for_update().get(pk=stage.pk)
    data = _validated(
        {
            "name": name,
            "name_en": name_en,
            "position": position,
            "description": description,
            "lifecycle_stages": list(lifecycle_stages),
            "entry_signals": list(entry_signals),
            "campaign_ids": list(campaign_ids),
            "content_notes": list(content_notes),
        },
        stage,
    )
    before = _snapshot(stage, sorted(stage.campaigns.values_list("pk", flat=True)))
    campaigns = data.pop("campaign_ids")
    for key, value in data.items():
        setattr(stage, key, value)
    stage.save()
    stage.campaigns.set(campaigns)
    after = _snapshot(stage, campaigns)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        audit_record(
            actor=actor,
            action="journey_stage.update",
            object_type="journey.journeystage",
            object_id=stage.pk,
            changes=changes,
        )
    return stage


@transaction.atomic
def journey_stage_delete(*, actor: Actor, stage: JourneyStage) -> None:
    """Delete a stage; contacts in it drop out until the next refresh places them again."""
    audit_record(
        actor=actor,
        action="journey_stage.delete",
        object_type="journey.journeystage",
        object_id=stage.pk,
        changes={"name": [stage.name, None], "position": [stage.position, None]},
    )
    stage.delete()


def _stage_case(stages: Sequence[JourneyStage]) -> Case | None:
    """CASE that yields the furthest stage whose mapping or entry signals the contact meets."""
    whens = []
    for stage in sorted(stages, key=lambda s: s.position, reverse=True):
        condition: Any = Q()
        if stage.lifecycle_stages:
            condition |= Q(lifecycle_stage__in=stage.lifecycle_stages)
        for signal in stage.entry_signals:
            condition |= signal_condition(signal)
        if condition:
            whens.append(When(condition, then=Value(stage.pk)))
    if not whens:
        return None
    return Case(*whens, default=Value(None), output_field=IntegerField())


def _refresh_chunk(contacts: Any, case: Case | None, stage_ids: set[int]) -> int:
    """Recompute and store the stage of the contacts in one chunk: five queries at most."""
    ids = list(contacts.values_list("pk", flat=True))
    if not ids:
        return 0
    computed: dict[int, int | None] = (
        dict(Contact.objects.filter(pk__in=ids).annotate(js=case).values_list("pk", "js"))
        if case is not None
        else dict.fromkeys(ids)
    )
    current = dict(
        ContactJourney.objects.filter(contact_id__in=ids).values_list("contact_id", "stage_id")
    )
    now = timezone.now()
    new, changed, gone = [], [], []
    for contact_id, stage_id in computed.items():
        old = current.get(contact_id)
        if stage_id is None or stage_id not in stage_ids:
            if old is not None:
                gone.append(contact_id)
        elif old is None:
            new.append(ContactJourney(contact_id=contact_id, stage_id=stage_id, since=now))
        elif old != stage_id:
            changed.append(ContactJourney(contact_id=contact_id, stage_id=stage_id, since=now))
    ContactJourney.objects.filter(contact_id__in=gone).delete() if gone else None
    # A concurrent refresh of the same contacts may have inserted meanwhile: last one wins.
    ContactJourney.objects.bulk_create(
        new,
        batch_size=REFRESH_CHUNK,
        update_conflicts=True,
        unique_fields=["contact"],
        update_fields=["stage", "since"],
    )
    ContactJourney.objects.bulk_update(changed, ["stage", "since"], batch_size=REFRESH_CHUNK)
    return len(new) + len(changed) + len(gone)


def contacts_journey_refresh(*, contact_ids: Iterable[int] | None = None) -> int:
    """Recompute the current journey stage of the given contacts (all when None).

    Set-based: per chunk of ``REFRESH_CHUNK`` contacts, one query computes every stage
    (a CASE over EXISTS subqueries) and a few bulk writes store the changes. Safe to run
    twice. Returns how many contacts changed stage.
    """
    stages = list(JourneyStage.objects.all())
    case, stage_ids = _stage_case(stages), {s.pk for s in stages}
    changed = 0
    if contact_ids is not None:
        ids = sorted(set(contact_ids))
        for start in range(0, len(ids), REFRESH_CHUNK):
            chunk = Contact.objects.filter(pk__in=ids[start : start + REFRESH_CHUNK])
            with transaction.atomic():
                changed += _refresh_chunk(chunk, case, stage_ids)
        return changed
    last = 0
    while True:
        # Keyset walk over the primary key: each chunk is an index range scan.
        chunk = Contact.objects.filter(pk__gt=last).order_by("pk")[:REFRESH_CHUNK]
        ids = list(chunk.values_list("pk", flat=True))
        if not ids:
            break
        with transaction.atomic():
            changed += _refresh_chunk(Contact.objects.filter(pk__in=ids), case, stage_ids)
        last = ids[-1]
    # Rows of deleted stages cascade away; nothing else can leave stale rows behind.
    return changed
