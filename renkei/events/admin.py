"""Admin pages for events and visitors: view-only, since events are append-only facts."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from renkei.events.models import Event, EventType, Visitor
from renkei.lib.admin import ReadOnlyAdmin


class EventTypeFilter(admin.SimpleListFilter):
    """The built-in types; a plain list_filter would scan every event for distinct types."""

    title = "type"
    parameter_name = "type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(value, str(label)) for value, label in EventType.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(type=self.value()) if self.value() else queryset


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "type", "contact", "visitor", "campaign", "client_event_id")
    list_filter = (EventTypeFilter,)
    list_select_related = ("contact", "visitor", "campaign")
    raw_id_fields = ("contact", "visitor", "campaign")
    # Exact lookups only: the unique index answers them; a substring search scans 10M rows.
    search_fields = ("=client_event_id",)
    search_help_text = "An exact client event id"
    ordering = ("-id",)


@admin.register(Visitor)
class VisitorAdmin(ReadOnlyAdmin):
    list_display = ("key", "contact", "created_at", "identified_at")
    list_select_related = ("contact",)
    raw_id_fields = ("contact",)
    search_fields = ("=key",)
    ordering = ("-id",)
