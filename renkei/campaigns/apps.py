from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "renkei.campaigns"
    verbose_name = "Campaigns"
