from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "renkei.scoring"
    verbose_name = "Scoring"

    def ready(self) -> None:
        from renkei.contacts.derived import EVENTS, derived_step_register
        from renkei.contacts.panels import contact_panel_register
        from renkei.scoring.panels import contact_engagement_panel
        from renkei.scoring.services import contacts_rescore

        derived_step_register(
            name="engagement",
            order=20,
            refresh=lambda ids: contacts_rescore(contact_ids=ids).contacts,
            triggers=[EVENTS],
        )

        contact_panel_register(
            name="engagement",
            template="scoring/_contact_engagement.html",
            context=contact_engagement_panel,
        )
