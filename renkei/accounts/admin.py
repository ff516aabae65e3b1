"""Admin pages for API tokens and the audit trail.

Users and groups keep Django's own admin pages. Tokens are created where their secret can
be shown once (the account page, ``renkei create_api_token``); here they can be revoked.
The audit trail is read-only: an entry that could be edited would prove nothing.
"""

import re
from typing import Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from renkei.accounts.models import ApiToken, AuditEntry
from renkei.accounts.services import api_token_revoke
from renkei.lib.admin import ReadOnlyAdmin


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    search_fields = ("name", "prefix", "user__username")
    exclude = ("token_hash",)
    actions = ("revoke",)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.change_apitoken")

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset.filter(revoked_at=None):
            api_token_revoke(token=token, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, "Tokens revoked.", messages.SUCCESS)


_OBJECT = re.compile(r"^([a-z_]+)\s*[#: ]\s*(\d{1,18})$")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_label", "action", "object_type", "object_id")
    list_select_related = ("actor",)
    raw_id_fields = ("actor",)
    search_fields = ("action",)
    search_help_text = "An object (contact 123, contact#123), an action (contact.stage) or a user"
    ordering = ("-id",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        # "contact 123" uses the (object_type, object_id, created_at) index.
        if match := _OBJECT.match(term):
            return queryset.filter(object_type=match[1], object_id=int(match[2])), False
        return queryset.filter(Q(action=term) | Q(actor_label=term)), False
