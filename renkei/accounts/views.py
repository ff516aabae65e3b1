"""Account pages: the home redirect, one's own API tokens, and the admins' users page."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renkei.accounts.forms import ROLE_CHOICES, ApiTokenForm, UserCreateForm, UserRoleForm
from renkei.accounts.models import ApiToken
from renkei.accounts.roles import user_role
from renkei.accounts.services import api_token_create, api_token_revoke, user_set_role


class AuthenticatedRequest(HttpRequest):
    """A request behind login_required: its user is a real user."""

    user: User


def home(request: HttpRequest) -> HttpResponse:
    return redirect("contacts:list")


_NEW_SECRET = "renkei_new_api_token"  # noqa: S105 (a session key, not a secret)


@login_required
def api_tokens(request: AuthenticatedRequest) -> HttpResponse:
    """The user's own tokens. A new token's secret is shown once, on the page the creation
    redirects to (post/redirect/get: reloading that page shows it no more and creates nothing).
    """
    can_create = request.user.has_perm("accounts.add_apitoken")
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not can_create:
            raise PermissionDenied
        if form.is_valid():
            _token, secret = api_token_create(user=request.user, name=form.cleaned_data["name"])
            request.session[_NEW_SECRET] = secret
            return redirect("api_tokens")
    context = {
        "form": form if can_create else None,
        "secret": request.session.pop(_NEW_SECRET, ""),
        "tokens": ApiToken.objects.filter(user=request.user).order_by("-created_at"),
    }
    return render(request, "accounts/api_tokens.html", context)


@login_required
@require_POST
def api_token_revoke_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    api_token_revoke(token=token, actor=request.user)
    messages.success(request, _("The token was revoked."))
    return redirect("api_tokens")


def _user_rows() -> list[dict[str, Any]]:
    users = User.objects.prefetch_related("groups").order_by("username")
    return [{"user": u, "role": user_role(u)} for u in users]


@login_required
@permission_required(["auth.add_user", "auth.change_user"], raise_exception=True)
def users(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        user = form.save(actor=request.user)
        messages.success(
            request, _("The user %(username)s was created.") % {"username": user.get_username()}
        )
        return redirect("users")
    context = {"form": form, "rows": _user_rows(), "role_choices": ROLE_CHOICES}
    return render(request, "accounts/users.html", context)


@login_required
@permission_required("auth.change_user", raise_exception=True)
@require_POST
def user_role_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    form = UserRoleForm(request.POST)
    if form.is_valid():
        user_set_role(user=user, role=form.cleaned_data["role"], actor=request.user)
        messages.success(
            request,
            _("The role of %(username)s was changed.") % {"username": user.get_username()},
        )
    else:
        messages.error(request, _("Choose one of the roles."))
    return redirect("users")
