from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "renkei.events"
    verbose_name = "Events"

    def ready(self) -> None:
        from renkei.events import receivers  # noqa: F401  (connects the receivers)
