"""Login, language, API tokens and the admins' users page."""

from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from renkei.accounts.models import ApiToken
from renkei.accounts.roles import user_role
from renkei.accounts.services import api_token_authenticate, api_token_create

TOKENS = reverse("api_tokens")
USERS = reverse("users")


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_login_form_logs_in_and_goes_to_contacts(sales_rep: User) -> None:
    client = Client()
    page = client.get("/login/")
    assert page.status_code == 200 and 'name="password"' in page.content.decode()
    response = client.post("/login/", {"username": "sales1", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("contacts:list")
    assert client.get(reverse("contacts:list")).status_code == 200


def test_wrong_password_shows_an_error_and_logs_nobody_in(sales_rep: User) -> None:
    client = Client()
    response = client.post("/login/", {"username": "sales1", "password": "nope"})
    assert response.status_code == 200 and response.context["form"].errors
    assert client.get(reverse("contacts:list")).status_code == 302


def test_logout_is_a_post_and_ends_the_session(viewer: User) -> None:
    client = _client(viewer)
    assert client.post("/logout/").status_code == 302
    assert client.get(reverse("contacts:list")).status_code == 302


def test_pages_are_japanese_by_default_and_the_switcher_changes_language(viewer: User) -> None:
    client = _client(viewer)
    assert "コンタクト" in client.get(reverse("contacts:list")).content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/contacts/"})
    assert response.status_code == 302
    html = client.get(reverse("contacts:list")).content.decode()
    assert '<html lang="en">' in html and "Contacts" in html


def test_token_secret_is_shown_once_and_works(sales_rep: User) -> None:
    client = _client(sales_rep)
    response = client.post(TOKENS, {"name": "フォーム連携"}, follow=True)
    assert response.redirect_chain == [(TOKENS, 302)]  # reloading cannot create another
    secret = response.context["secret"]
    assert secret.startswith("rk_") and secret in response.content.decode()
    assert api_token_authenticate(secret) == sales_rep
    again = client.get(TOKENS).content.decode()
    assert secret not in again and "フォーム連携" in again


def test_revoked_token_stops_working(sales_rep: User) -> None:
    token, secret = api_token_create(user=sales_rep, name="old")
    response = _client(sales_rep).post(reverse("api_token_revoke", args=[token.pk]))
    assert response.status_code == 302
    assert api_token_authenticate(secret) is None


def test_nobody_revokes_or_sees_another_users_token(sales_rep: User, manager: User) -> None:
    token, secret = api_token_create(user=sales_rep, name="mine")
    client = _client(manager)
    assert client.post(reverse("api_token_revoke", args=[token.pk])).status_code == 404
    assert "mine" not in client.get(TOKENS).content.decode()
    assert api_token_authenticate(secret) == sales_rep


def test_viewer_may_not_create_a_token(viewer: User) -> None:
    client = _client(viewer)
    assert client.get(TOKENS).status_code == 200
    assert client.post(TOKENS, {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_users_page_is_for_admins_only(manager: User, viewer: User) -> None:
    for user in (manager, viewer):
        assert _client(user).get(USERS).status_code == 403


def test_admin_creates_a_user_with_a_role(admin_user: User) -> None:
    response = _client(admin_user).post(
        USERS,
        {
            "username": "tanaka",
            "last_name": "田中",
            "first_name": "一郎",
            "email": "tanaka@example.jp",
            "password1": "kanri-sales-2026!",
            "password2": "kanri-sales-2026!",
            "role": "marketing",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="tanaka")
    assert user_role(user) == "marketing" and user.check_password("kanri-sales-2026!")


def test_mismatched_passwords_and_unknown_role_are_form_errors(admin_user: User) -> None:
    data = {"username": "x", "password1": "kanri-sales-2026!", "password2": "other-pass-2026!"}
    response = _client(admin_user).post(USERS, {**data, "role": "boss"})
    assert {"password2", "role"} <= set(response.context["form"].errors)
    assert not User.objects.filter(username="x").exists()


def test_admin_changes_a_users_role(admin_user: User, sales_rep: User, db: Any) -> None:
    client = _client(admin_user)
    response = client.post(reverse("user_role", args=[sales_rep.pk]), {"role": "manager"})
    assert response.status_code == 302
    sales_rep = User.objects.get(pk=sales_rep.pk)
    assert user_role(sales_rep) == "manager"
    assert (
        client.post(reverse("user_role", args=[sales_rep.pk]), {"role": "god"}).status_code == 302
    )
    assert user_role(User.objects.get(pk=sales_rep.pk)) == "manager"


def test_sign_in_is_refused_after_five_failures_for_a_username(sales_rep: User) -> None:
    client = Client()
    for _ in range(5):
        response = client.post(reverse("login"), {"username": "sales1", "password": "wrong"})
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post(reverse("login"), {"username": "sales1", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert "throttled" in [e.code for e in response.context["form"].non_field_errors().as_data()]
    other = Client().post(reverse("login"), {"username": "sales1", "password": PASSWORD})
    assert other.status_code == 200  # another address, same account: still refused
