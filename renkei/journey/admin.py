"""Read-only admin listing: edits go through the journey pages so that they are audited."""

from django.contrib import admin
from django.http import HttpRequest

from renkei.journey.models import JourneyStage


@admin.register(JourneyStage)
class JourneyStageAdmin(admin.ModelAdmin):
    list_display = ("position", "name", "name_en")
    ordering = ("position",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
