from django.apps import AppConfig
from django.db.models.signals import post_migrate


class QualificationConfig(AppConfig):
    name = "renkei.qualification"
    verbose_name = "Qualification"

    def ready(self) -> None:
        from renkei.contacts.derived import derived_step_register
        from renkei.contacts.panels import contact_panel_register
        from renkei.qualification import receivers  # noqa: F401  (connects the receivers)
        from renkei.qualification.defaults import qualification_policy_ensure
        from renkei.qualification.panels import contact_qualification_panel
        from renkei.qualification.services import contacts_qualify

        # After engagement (20) and persona fit (30), whose fresh values it reads; before
        # the journey (50), whose entry signals may read the stage it sets.
        derived_step_register(
            name="qualification",
            order=40,
            refresh=lambda ids: contacts_qualify(contact_ids=ids).qualified,
        )
        # The policy row comes back after a flush (tests) or on a site without one.
        post_migrate.connect(
            qualification_policy_ensure, sender=self, dispatch_uid="renkei.qualification.policy"
        )
        contact_panel_register(
            name="qualification",
            template="qualification/_contact_qualification.html",
            context=contact_qualification_panel,
        )
