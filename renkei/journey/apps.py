from django.apps import AppConfig


class JourneyConfig(AppConfig):
    name = "renkei.journey"
    verbose_name = "Journey"
