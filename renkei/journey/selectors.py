"""Reads of the journey app: the stages with their campaigns, and contacts per stage."""

from django.db.models import Count, QuerySet

from renkei.journey.models import ContactJourney, JourneyStage


def journey_stages() -> QuerySet[JourneyStage]:
    """All stages in path order, campaigns loaded (two queries whatever the count)."""
    return JourneyStage.objects.order_by("position").prefetch_related("campaigns")


def journey_stage_counts() -> dict[int, int]:
    """Contacts currently in each stage, by stage id: one GROUP BY on the stage index.

    Extension point for per-persona counts (the personas app, wired by the lead; journey
    must not import it). ``ContactPersona.contact`` has no reverse accessor, so join on
    the shared primary key (both tables are keyed by contact id)::

        ContactJourney.objects.annotate(
            persona=Subquery(ContactPersona.objects.filter(contact_id=OuterRef("contact_id"))
                             .values("version__persona_id")[:1])
        ).values("stage", "persona").annotate(n=Count("pk")).order_by()

    and pass ``{(stage_id, persona_id): n}`` to the journey page as ``persona_counts``.
    """
    rows = ContactJourney.objects.values("stage").annotate(n=Count("pk")).order_by()
    return {row["stage"]: row["n"] for row in rows}


def contact_journey_stage(contact_id: int) -> JourneyStage | None:
    """The contact's current stage as last refreshed, or None."""
    row = ContactJourney.objects.select_related("stage").filter(contact_id=contact_id).first()
    return row.stage if row else None
