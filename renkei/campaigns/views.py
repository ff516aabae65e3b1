"""Campaign pages: everyone sees the list; marketing, managers and admins change it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from renkei.accounts.forms import service_errors_to_form
from renkei.campaigns.forms import CampaignForm
from renkei.campaigns.models import Campaign
from renkei.campaigns.services import campaign_create, campaign_update

LIST_LIMIT = 500  # campaigns number in the dozens or hundreds, not millions


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = Campaign.objects.order_by("-starts_on", "-id")[:LIST_LIMIT]
    return render(request, "campaigns/campaign_list.html", {"campaigns": campaigns})


@login_required
@permission_required("campaigns.add_campaign", raise_exception=True)
def campaign_new(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            campaign_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, _("The campaign was created."))
            return redirect("campaigns:list")
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": None})


@login_required
@permission_required("campaigns.change_campaign", raise_exception=True)
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    if request.method != "POST":
        form = CampaignForm(initial=CampaignForm.initial_for(campaign))
    else:
        form = CampaignForm(request.POST)
        if form.is_valid():
            try:
                campaign_update(campaign=campaign, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                service_errors_to_form(form, exc)
            else:
                messages.success(request, _("The campaign was saved."))
                return redirect("campaigns:list")
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": campaign})
