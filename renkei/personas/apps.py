from django.apps import AppConfig


class PersonasConfig(AppConfig):
    name = "renkei.personas"
    verbose_name = "Personas"

    def ready(self) -> None:
        from renkei.contacts.panels import contact_panel_register
        from renkei.personas.panels import contact_fit_panel

        contact_panel_register(
            name="personas", template="personas/_contact_fit.html", context=contact_fit_panel
        )
