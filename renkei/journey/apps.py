from django.apps import AppConfig
from django.db.models.signals import post_migrate


class JourneyConfig(AppConfig):
    name = "renkei.journey"
    verbose_name = "Journey"

    def ready(self) -> None:
        from renkei.contacts.derived import derived_step_register
        from renkei.contacts.panels import contact_panel_register
        from renkei.journey.defaults import journey_defaults_ensure
        from renkei.journey.panels import contact_journey_panel
        from renkei.journey.services import contacts_journey_refresh

        # Last: entry signals may read the lifecycle stage that qualification just set.
        derived_step_register(
            name="journey",
            order=50,
            refresh=lambda ids: contacts_journey_refresh(contact_ids=ids),
        )

        # The default stages come back after a flush (tests) or on a site without any.
        post_migrate.connect(
            journey_defaults_ensure, sender=self, dispatch_uid="renkei.journey.defaults"
        )
        contact_panel_register(
            name="journey", template="journey/_contact_panel.html", context=contact_journey_panel
        )
