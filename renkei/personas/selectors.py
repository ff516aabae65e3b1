"""Reads for personas: the list with counts, a persona's versions, and fit explanations."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import get_language

from renkei.contacts.models import Contact
from renkei.personas.criteria import (
    ROW_FIELDS,
    criterion_compile,
    criterion_describe,
    fit_of,
    row_prepare,
)
from renkei.personas.models import Persona, PersonaVersion, VersionStatus


def personas_with_active() -> QuerySet[Persona]:
    """Every persona with ``active`` (a one-item list or empty) and ``best_count``: how many
    contacts have it as their best persona. Three queries whatever the number of personas."""
    active = PersonaVersion.objects.filter(status=VersionStatus.APPROVED).annotate(
        best_count=Count("best_for")
    )
    return Persona.objects.prefetch_related(
        Prefetch("versions", queryset=active, to_attr="active")
    ).annotate(draft_count=Count("versions", filter=Q(versions__status=VersionStatus.DRAFT)))


def persona_versions(persona: Persona) -> QuerySet[PersonaVersion]:
    return persona.versions.select_related(
        "created_by", "approved_by_marketing", "approved_by_sales"
    ).order_by("-number")


@dataclass(frozen=True)
class FitExplanation:
    """Why a contact fits one persona: its fit and the criteria met and missed, in words."""

    persona: str
    version: int
    fit: int
    met: list[str]
    missed: list[str]


def contact_fit_explain(contact: Contact) -> list[FitExplanation]:
    """One explanation per active persona, best fit first (ties: the oldest persona).

    Computed from the contact's current data, so it also holds between rebuilds. Kept on
    the contact object: the contact page's cards each ask for it.
    """
    by_language: dict[str, list[FitExplanation]] = contact.__dict__.setdefault(
        "_fit_explanations", {}
    )
    language = get_language() or ""
    if language not in by_language:
        by_language[language] = _contact_fit_explain(contact)
    return by_language[language]


def _contact_fit_explain(contact: Contact) -> list[FitExplanation]:
    row = Contact.objects.filter(pk=contact.pk).values(*ROW_FIELDS).first()
    if row is None:
        return []
    row = row_prepare(row)
    versions = (
        PersonaVersion.objects.filter(status=VersionStatus.APPROVED)
        .select_related("persona")
        .order_by("persona__created_at", "persona_id")
    )
    out = []
    for version in versions:
        compiled = [criterion_compile(c) for c in version.criteria]
        met: list[str] = []
        missed: list[str] = []
        for raw, c in zip(version.criteria, compiled, strict=True):
            (met if fit_of([c], row) else missed).append(criterion_describe(raw))
        out.append(
            FitExplanation(version.persona.name, version.number, fit_of(compiled, row), met, missed)
        )
    return sorted(out, key=lambda e: -e.fit)
