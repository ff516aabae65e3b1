from django.apps import AppConfig


class CaptureConfig(AppConfig):
    name = "renkei.capture"
    verbose_name = "Capture"

    def ready(self) -> None:
        from renkei.capture import receivers  # noqa: F401  (CORS origins from the database)
