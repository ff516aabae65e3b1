from django.apps import AppConfig


class PersonasConfig(AppConfig):
    name = "renkei.personas"
    verbose_name = "Personas"

    def ready(self) -> None:
        from renkei.contacts.derived import PROPERTIES, derived_step_register
        from renkei.contacts.panels import contact_panel_register
        from renkei.personas.panels import contact_fit_panel
        from renkei.personas.services import contacts_fit_refresh

        # A fit reads the contact's and its company's fields, never events: after the
        # engagement score (20), before qualification (40) reads the fit.
        derived_step_register(
            name="persona_fit",
            order=30,
            refresh=lambda ids: contacts_fit_refresh(contact_ids=ids),
            triggers=[PROPERTIES],
        )
        contact_panel_register(
            name="personas", template="personas/_contact_fit.html", context=contact_fit_panel
        )
