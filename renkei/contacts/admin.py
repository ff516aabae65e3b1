"""Admin pages for companies, contacts and stage history: view-only.

Contacts and companies change through the app's pages and the API, whose services
normalise, deduplicate and audit every change; an admin form would skip all of that.
"""

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from renkei.contacts.models import Company, Contact, LifecycleTransition
from renkei.lib.admin import ReadOnlyAdmin
from renkei.lib.japanese import nfkc, normalize_company_name, normalize_email


@admin.register(Company)
class CompanyAdmin(ReadOnlyAdmin):
    list_display = ("name", "domain", "industry", "prefecture", "employee_count", "owner")
    list_filter = ("industry", "prefecture")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    search_fields = ("name_normalized",)
    search_help_text = "Company name in any spelling (株式会社 / ㈱ / width ignored) or domain"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        key = normalize_company_name(search_term.replace("\x00", ""))
        if not key:
            return queryset, False
        return queryset.filter(Q(name_normalized__contains=key) | Q(domain__contains=key)), False


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = (
        "email",
        "full_name",
        "company",
        "lifecycle_stage",
        "owner",
        "score",
        "last_activity_at",
    )
    list_filter = ("lifecycle_stage",)
    list_select_related = ("company", "owner")
    raw_id_fields = ("company", "owner", "first_campaign")
    search_fields = ("search_text",)
    search_help_text = "An exact email, or part of a name, フリガナ, email or company"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.replace("\x00", "")
        if "@" in term:
            # The unique index on email_normalized answers this at any table size.
            return queryset.filter(email_normalized=normalize_email(term)), False
        # search_text is normalised the same way (see contacts.selectors.contacts_filtered).
        needle = nfkc(term).lower().replace(" ", "").replace("\u3000", "")
        if not needle:
            return queryset, False
        return queryset.filter(search_text__contains=needle), False


@admin.register(LifecycleTransition)
class LifecycleTransitionAdmin(ReadOnlyAdmin):
    list_display = ("contact", "from_stage", "to_stage", "occurred_at", "actor", "source")
    list_filter = ("to_stage",)
    list_select_related = ("contact", "actor")
    raw_id_fields = ("contact", "actor")
    ordering = ("-id",)
