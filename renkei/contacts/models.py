"""Companies and contacts, with the Japanese matching keys they are deduplicated by."""

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from renkei.lib.japanese import PREFECTURES

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

PREFECTURE_CHOICES = [(p, p) for p in PREFECTURES]


class LifecycleStage(models.TextChoices):
    """Funnel position. The order of the main path is the order of declaration."""

    SUBSCRIBER = "subscriber", _("Subscriber")
    LEAD = "lead", _("Lead")
    MQL = "mql", _("MQL")
    SAL = "sal", _("SAL")
    SQL = "sql", _("SQL")
    OPPORTUNITY = "opportunity", _("Opportunity")
    CUSTOMER = "customer", _("Customer")
    RECYCLED = "recycled", _("Recycled")
    DISQUALIFIED = "disqualified", _("Disqualified")


FUNNEL_ORDER = [
    LifecycleStage.SUBSCRIBER,
    LifecycleStage.LEAD,
    LifecycleStage.MQL,
    LifecycleStage.SAL,
    LifecycleStage.SQL,
    LifecycleStage.OPPORTUNITY,
    LifecycleStage.CUSTOMER,
]


class Industry(models.TextChoices):
    MANUFACTURING = "manufacturing", _("Manufacturing")
    IT = "it", _("IT / software")
    FINANCE = "finance", _("Finance / insurance")
    RETAIL = "retail", _("Retail / wholesale")
    CONSTRUCTION = "construction", _("Construction / real estate")
    HEALTHCARE = "healthcare", _("Healthcare")
    LOGISTICS = "logistics", _("Logistics")
    SERVICES = "services", _("Professional services")
    EDUCATION = "education", _("Education")
    PUBLIC = "public", _("Public sector")
    OTHER = "other", _("Other")


class Company(models.Model):
    """An organisation (企業). Deduplicated by domain, then by normalised name."""

    name = models.CharField(_("name"), max_length=200)
    name_kana = models.CharField(_("name (kana)"), max_length=200, blank=True)
    name_normalized = models.CharField(max_length=200, db_index=True, editable=False)
    domain = models.CharField(_("domain"), max_length=200, blank=True)
    industry = models.CharField(
        _("industry"), max_length=32, choices=Industry.choices, blank=True, db_index=True
    )
    employee_count = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    prefecture = models.CharField(
        _("prefecture"), max_length=8, choices=PREFECTURE_CHOICES, blank=True
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_companies",
        verbose_name=_("owner"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        permissions = [("merge_company", "Can merge two companies")]
        constraints = [
            models.UniqueConstraint(
                fields=["domain"], condition=~Q(domain=""), name="company_domain_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ContactQuerySet(models.QuerySet["Contact"]):
    def with_score(self) -> "models.QuerySet[WithAnnotations[Contact]]":
        """Load each contact's score in the same query (a join on ``ContactScore``)."""
        return self.annotate(score_value=Coalesce(F("score_row__score"), Value(0)))


class Contact(models.Model):
    """A person: lead, 見込み客 or customer. Deduplicated by normalised email.

    ``score`` is the lead score the scoring app maintains, kept in ``ContactScore``;
    ``search_text`` is a normalised haystack of names, kana, email and company for
    free-text search.
    """

    email = models.EmailField(_("email"), max_length=254)
    email_normalized = models.CharField(max_length=254, unique=True, editable=False)
    family_name = models.CharField(_("family name"), max_length=100, blank=True)
    given_name = models.CharField(_("given name"), max_length=100, blank=True)
    family_name_kana = models.CharField(_("family name (kana)"), max_length=100, blank=True)
    given_name_kana = models.CharField(_("given name (kana)"), max_length=100, blank=True)
    # No single-column indexes on company and owner: (company, id) and (owner, id) below
    # serve every look-up by them, and each index more is written on every owner change.
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        verbose_name=_("company"),
        db_index=False,
    )
    department = models.CharField(_("department"), max_length=200, blank=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    prefecture = models.CharField(
        _("prefecture"), max_length=8, choices=PREFECTURE_CHOICES, blank=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_contacts",
        verbose_name=_("owner"),
        db_index=False,
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=16,
        choices=LifecycleStage.choices,
        default=LifecycleStage.LEAD,
    )
    lifecycle_stage_changed_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    first_campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="first_touch_contacts",
        verbose_name=_("first-touch campaign"),
    )
    # The contact's earliest known touch: a stitched visitor's first page view, the form
    # or import that created it. ``first_touch`` holds its UTM parameters, URL, referrer.
    first_touch_at = models.DateTimeField(_("first touch"), null=True, blank=True)
    # NULL until known (a NOT NULL column would make SQLite rebuild the table to add it).
    first_touch = models.JSONField(_("first-touch details"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=64, blank=True)
    properties = models.JSONField(_("custom properties"), default=dict, blank=True)
    search_text = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            # Keyset pagination runs newest-first by id; each filter gets (filter, id).
            models.Index(fields=["lifecycle_stage", "id"], name="contact_stage_id"),
            models.Index(fields=["owner", "id"], name="contact_owner_id"),
            models.Index(fields=["company", "id"], name="contact_company_id"),
            models.Index(fields=["created_at", "id"], name="contact_created_id"),
            # The duplicates view groups contacts by name within a company and by phone.
            models.Index(
                fields=["company", "family_name", "given_name"], name="contact_company_name"
            ),
            models.Index(fields=["phone"], name="contact_phone"),
        ]
        permissions = [
            ("change_lifecycle_stage", "Can change a contact's lifecycle stage"),
            ("assign_owner", "Can assign a contact's or company's owner"),
            ("merge_contact", "Can merge two contacts"),
            ("export_contact", "Can export contacts to CSV or XLSX"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def full_name(self) -> str:
        """Japanese order: family name first."""
        return " ".join(p for p in (self.family_name, self.given_name) if p)

    @property
    def full_name_kana(self) -> str:
        return " ".join(p for p in (self.family_name_kana, self.given_name_kana) if p)

    @property
    def score(self) -> int:
        """The engagement score: loaded by ``Contact.objects.with_score()``, else read
        (one query) from ``ContactScore``; 0 without a row. Written only through
        ``renkei.contacts.services.contact_scores_set``."""
        loaded = self.__dict__.get("score_value")
        if loaded is not None:
            return int(loaded)
        try:
            return self.score_row.score
        except ContactScore.DoesNotExist:
            return 0

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__.pop("score_value", None)  # read the score afresh too
        super().refresh_from_db(*args, **kwargs)


class ContactScore(models.Model):
    """A contact's engagement score, kept apart from the wide contacts table: a full
    rescore rewrites a million narrow rows here, not a million contact rows with all
    their indexes. No row means 0."""

    contact = models.OneToOneField(
        Contact, primary_key=True, on_delete=models.CASCADE, related_name="score_row"
    )
    score = models.IntegerField(_("score"), default=0)

    # On SQLite an index on (score, contact) is created by the migration (and rebuilt by
    # the full rescore); PostgreSQL has none, so that rewriting a score touches no index.

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.score}"


class LifecycleTransition(models.Model):
    """One change of a contact's lifecycle stage: from, to, when, who and why.

    Written only by ``contacts.services.contact_change_stage`` (and once at creation).
    """

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="transitions", db_index=False
    )
    from_stage = models.CharField(max_length=16, choices=LifecycleStage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=LifecycleStage.choices)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    reason = models.TextField(blank=True)
    source = models.CharField(max_length=32, blank=True, help_text="ui, api, import, system…")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "occurred_at"], name="transition_contact_time"),
            models.Index(fields=["occurred_at", "to_stage"], name="transition_time_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.from_stage or '∅'} → {self.to_stage}"

    @property
    def is_backward(self) -> bool:
        return stage_is_backward(self.from_stage, self.to_stage)


def stage_is_backward(from_stage: str, to_stage: str) -> bool:
    """A move down the funnel, or out of it (recycled, disqualified)."""
    if not from_stage:
        return False
    if to_stage in (LifecycleStage.RECYCLED, LifecycleStage.DISQUALIFIED):
        return True
    if from_stage not in FUNNEL_ORDER or to_stage not in FUNNEL_ORDER:
        return False
    return FUNNEL_ORDER.index(to_stage) < FUNNEL_ORDER.index(from_stage)  # type: ignore[arg-type]


class ConsentKind(models.TextChoices):
    EMAIL_OPT_IN = "email_opt_in", _("Email opt-in")
    PRIVACY_POLICY = "privacy_policy", _("Privacy policy")


class Consent(models.Model):
    """A consent given (or refused) by a contact, as Japan's Act on Specified Electronic
    Mail asks it to be kept: the text shown, when, where (page, IP) and through what.

    Append-only: a later row for the same kind supersedes the earlier ones.
    """

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="consents", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=32, choices=ConsentKind.choices)
    granted = models.BooleanField(_("granted"))
    text = models.TextField(_("text shown"), blank=True)
    occurred_at = models.DateTimeField(_("time"))
    source = models.CharField(
        _("source"), max_length=64, blank=True, help_text="form:<id>, import, ui…"
    )
    source_url = models.URLField(_("source page"), max_length=2000, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "kind", "occurred_at"], name="consent_contact_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind}={'yes' if self.granted else 'no'}"
