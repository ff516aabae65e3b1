from django.apps import AppConfig


class HandoffConfig(AppConfig):
    name = "renkei.handoff"
    verbose_name = "Hand-off"

    def ready(self) -> None:
        from renkei.handoff import receivers  # noqa: F401  (connects the receivers)
