from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DealsConfig(AppConfig):
    name = "renkei.deals"
    verbose_name = "Deals"

    def ready(self) -> None:
        from renkei.contacts.panels import contact_panel_register
        from renkei.deals import receivers  # noqa: F401  (connects the receivers)
        from renkei.deals.defaults import pipeline_default_ensure
        from renkei.deals.panels import contact_deals_panel

        # The default pipeline comes back after a flush (tests) or on a site without one.
        post_migrate.connect(
            pipeline_default_ensure, sender=self, dispatch_uid="renkei.deals.pipeline"
        )
        contact_panel_register(
            name="deals", template="deals/_contact_deals.html", context=contact_deals_panel
        )
