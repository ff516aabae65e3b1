"""Admin page for campaigns. Saving goes through the audited campaign services."""

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from renkei.campaigns.models import Campaign
from renkei.campaigns.services import CAMPAIGN_FIELDS, campaign_create, campaign_update
from renkei.lib.admin import FastListAdmin


@admin.register(Campaign)
class CampaignAdmin(FastListAdmin):
    list_display = ("name", "channel", "utm_campaign", "cost", "starts_on", "ends_on")
    list_filter = ("channel",)
    search_fields = ("name", "utm_campaign")
    fields = CAMPAIGN_FIELDS

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting a campaign would silently drop it from events' attribution.
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        values = {field: form.cleaned_data[field] for field in CAMPAIGN_FIELDS}
        if change:
            fresh = Campaign.objects.get(pk=obj.pk)
            campaign_update(campaign=fresh, actor=request.user, **values)
        else:
            obj.pk = campaign_create(actor=request.user, **values).pk
