from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "renkei.events"
    verbose_name = "Events"

    def ready(self) -> None:
        from renkei.contacts.derived import EVENTS, derived_step_register
        from renkei.events import receivers  # noqa: F401  (connects the receivers)
        from renkei.events.services import contacts_refresh_last_activity

        derived_step_register(
            name="last_activity",
            order=10,
            refresh=lambda ids: contacts_refresh_last_activity(contact_ids=ids),
            triggers=[EVENTS],
        )
