from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "renkei.scoring"
    verbose_name = "Scoring"

    def ready(self) -> None:
        from renkei.contacts.panels import contact_panel_register
        from renkei.scoring import receivers  # noqa: F401  (connects the receivers)
        from renkei.scoring.panels import contact_engagement_panel

        contact_panel_register(
            name="engagement",
            template="scoring/_contact_engagement.html",
            context=contact_engagement_panel,
        )
