from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "renkei.tracking"
    verbose_name = "Tracking"
