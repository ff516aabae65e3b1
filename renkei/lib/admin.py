"""Building blocks for Django admin pages that stay fast on tables of millions of rows.

The admin is a window for support and operations, not the way data changes: every write
goes through a service that normalises and audits it, so most pages here are read-only.
"""

from typing import Any, cast

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property


class CappedCountPaginator(Paginator):
    """Counts at most ``cap`` + 1 rows.

    ``COUNT(*)`` over ten million events takes seconds on PostgreSQL; a bounded count takes
    milliseconds. Past the cap the pager stops, and a filter or a search narrows the list.
    """

    cap = 10_000

    @cached_property
    def count(self) -> int:
        return cast(QuerySet[Any], self.object_list)[: self.cap + 1].count()


class FastListAdmin(admin.ModelAdmin):
    """A change list that never counts a whole big table."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50


class ReadOnlyAdmin(FastListAdmin):
    """A view-only page: the rows are written by services (with an audit entry) or are
    append-only facts, so the admin must not add, change or delete them."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
