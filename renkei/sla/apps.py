from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SlaConfig(AppConfig):
    name = "renkei.sla"
    verbose_name = "SLA"

    def ready(self) -> None:
        from renkei.contacts.derived import EVENTS, derived_step_register
        from renkei.contacts.panels import contact_panel_register
        from renkei.sla import receivers  # noqa: F401  (connects the receivers)
        from renkei.sla.defaults import calendar_ensure
        from renkei.sla.panels import contact_sla_panel
        from renkei.sla.services import sla_touches_refresh

        # Touches (call, meeting, email_sent) meet the first-touch and attempts clocks.
        # After the journey (50): it reads only events and writes only clocks.
        derived_step_register(
            name="sla_touches",
            order=60,
            refresh=lambda ids: sla_touches_refresh(ids),
            triggers=[EVENTS],
        )
        post_migrate.connect(calendar_ensure, sender=self, dispatch_uid="renkei.sla.calendar")
        contact_panel_register(
            name="sla", template="sla/_contact_sla.html", context=contact_sla_panel
        )
