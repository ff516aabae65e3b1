"""Reads of the capture app: forms for the marketer's pages and the public endpoints, and
a form's submissions in keyset pages."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet

from renkei.capture.models import FormField, FormSubmission, WebForm

LIST_LIMIT = 500  # forms number in the dozens or hundreds, not millions


def webforms_list() -> QuerySet[WebForm]:
    """Forms for the list page, with their campaign; counts are stored on the form."""
    return WebForm.objects.select_related("campaign").order_by("name", "id")[:LIST_LIMIT]


def webform_get(pk: int) -> WebForm | None:
    """A form with its campaign and its fields in order (one query for the fields)."""
    return (
        WebForm.objects.select_related("campaign")
        .prefetch_related(Prefetch("fields", queryset=FormField.objects.order_by("position", "id")))
        .filter(pk=pk)
        .first()
    )


def webform_public(key: str) -> WebForm | None:
    """The active form with this public key, with its fields; None for an unknown key or
    an inactive form (the public endpoints answer 404 alike)."""
    if not key or len(key) > 64:
        return None
    return (
        WebForm.objects.prefetch_related(
            Prefetch("fields", queryset=FormField.objects.order_by("position", "id"))
        )
        .filter(key=key, is_active=True)
        .first()
    )


@dataclass(frozen=True, slots=True)
class SubmissionCursor:
    """A position in a form's submissions (newest first): time, then id breaks ties."""

    submitted_at: datetime
    id: int

    def __str__(self) -> str:
        return f"{self.submitted_at.isoformat()}~{self.id}"

    @classmethod
    def parse(cls, value: str) -> "SubmissionCursor":
        """The cursor from its ``str()``; ValueError when it is not one."""
        time_text, _, id_text = value.partition("~")
        submitted_at = datetime.fromisoformat(time_text)
        if submitted_at.tzinfo is None:
            raise ValueError(f"not a submission cursor: {value!r}")
        return cls(submitted_at, int(id_text))


def form_submissions_page(
    form: WebForm, *, before: SubmissionCursor | None = None, limit: int = 50
) -> tuple[list[FormSubmission], SubmissionCursor | None]:
    """One page of a form's submissions, newest first, with their contacts; and the
    cursor of the next page (None on the last). Reads at most ``limit + 1`` rows of the
    (form, submitted_at, id) index whatever the page."""
    qs = FormSubmission.objects.filter(form=form)
    if before is not None:
        qs = qs.filter(
            Q(submitted_at__lt=before.submitted_at)
            | Q(submitted_at=before.submitted_at, id__lt=before.id)
        )
    rows = list(
        qs.select_related("contact", "contact__company").order_by("-submitted_at", "-id")[
            : limit + 1
        ]
    )
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, SubmissionCursor(rows[-1].submitted_at, rows[-1].pk)
    return rows, None
