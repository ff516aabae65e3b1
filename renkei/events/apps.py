from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "renkei.events"
    verbose_name = "Events"
