"""``renkei create_api_token USERNAME [--name NAME]``: print a new API token once."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from renkei.accounts.services import api_token_create


class Command(BaseCommand):
    help = (
        "Create an API token for a user and print it. Only a hash is stored, so the "
        "token cannot be shown again: copy it now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="A label to recognise the token by")

    def handle(self, *args: Any, username: str, name: str, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        if not user.is_active:
            raise CommandError(f"user {username!r} is inactive; its tokens would not work")
        token, secret = api_token_create(user=user, name=name)
        # The note goes to stderr so that `… | tail -n 1` or `$(…)` captures the bare token.
        self.stderr.write(f"Token {token.name!r} ({token.prefix}…) for {username}; shown once:")
        self.stdout.write(secret)
