from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "renkei.accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from renkei.accounts import roles

        # Permissions exist only after migrate, so roles are synced after it (idempotent).
        post_migrate.connect(roles.sync_after_migrate, dispatch_uid="renkei.accounts.roles")
