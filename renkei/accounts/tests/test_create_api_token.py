"""``renkei create_api_token``: prints a working token once and stores only its hash."""

import hashlib
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from renkei.accounts.models import ApiToken
from renkei.accounts.services import api_token_authenticate

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_prints_a_token_that_authenticates_and_stores_only_its_hash(marketer: Any) -> None:
    out, err = _run("marketer", "--name", "CRM sync")
    secret = out.strip()
    assert secret.startswith("rk_") and "\n" not in secret
    assert "shown once" in err
    token = ApiToken.objects.get(user=marketer)
    assert token.name == "CRM sync"
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.name, token.prefix, token.token_hash}
    assert api_token_authenticate(secret) == marketer


def test_each_run_creates_a_new_token(marketer: Any) -> None:
    first, _ = _run("marketer")
    second, _ = _run("marketer")
    assert first != second
    assert ApiToken.objects.filter(user=marketer, name="cli").count() == 2


def test_unknown_user_is_a_command_error() -> None:
    with pytest.raises(CommandError, match="nobody"):
        _run("nobody")
    assert not ApiToken.objects.exists()


def test_inactive_user_is_a_command_error() -> None:
    User.objects.create_user("left", is_active=False)
    with pytest.raises(CommandError, match="inactive"):
        _run("left")
