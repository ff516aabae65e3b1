from django.apps import AppConfig
from django.db.models.signals import post_migrate


class JourneyConfig(AppConfig):
    name = "renkei.journey"
    verbose_name = "Journey"

    def ready(self) -> None:
        from renkei.contacts.panels import contact_panel_register
        from renkei.journey import receivers  # noqa: F401  (connects the receivers)
        from renkei.journey.defaults import journey_defaults_ensure
        from renkei.journey.panels import contact_journey_panel

        # The default stages come back after a flush (tests) or on a site without any.
        post_migrate.connect(
            journey_defaults_ensure, sender=self, dispatch_uid="renkei.journey.defaults"
        )
        contact_panel_register(
            name="journey", template="journey/_contact_panel.html", context=contact_journey_panel
        )
