"""The REST API under /api/v1: one NinjaAPI, token auth, errors that name the field."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer
from pydantic import BaseModel

from renkei.accounts.services import api_token_authenticate


class BearerToken(HttpBearer):
    """``Authorization: Bearer rk_…`` with a token created in the UI or by create_api_token."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user  # type: ignore[assignment]  # the default User model
        return user


class RenkeiAPI(NinjaAPI):
    """NinjaAPI that can also publish schemas of bodies an endpoint parses itself."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._extra_schemas: dict[str, Any] = {}

    def register_extra_schema(self, model: type[BaseModel]) -> None:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            self._extra_schemas[name] = definition
        self._extra_schemas[model.__name__] = schema

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {}).update(self._extra_schemas)
        return schema


api = RenkeiAPI(
    title="Renkei API",
    version="1",
    description="Contacts, companies and events of the shared marketing–sales funnel.",
    auth=BearerToken(),
    urls_namespace="api",
)


def _error(request: HttpRequest, status: int, detail: Any) -> HttpResponse:
    return api.create_response(request, {"detail": detail}, status=status)


@api.exception_handler(DjangoValidationError)
def on_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        detail = [
            {"loc": [field], "msg": "; ".join(messages)}
            for field, messages in exc.message_dict.items()
        ]
    else:
        detail = [{"loc": [], "msg": "; ".join(exc.messages)}]
    return _error(request, 422, detail)


@api.exception_handler(NinjaValidationError)
def on_request_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    detail = [
        {"loc": [str(p) for p in err.get("loc", [])], "msg": err.get("msg", "invalid")}
        for err in exc.errors
    ]
    return _error(request, 422, detail)


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, str(exc) or "your role may not do this")


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "a valid bearer token is required")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc))


def require_perm(request: HttpRequest, perm: str) -> None:
    """Raise 403 unless the token's user has the permission (roles are groups of perms)."""
    if not request.user.has_perm(perm):
        raise PermissionDenied(f"your role may not do this (needs {perm})")


def _register_routers() -> None:
    from renkei.contacts.api import companies_router, contacts_router
    from renkei.events.api import router as events_router
    from renkei.handoff.api import router as handoff_router
    from renkei.scoring.api import router as scoring_router

    api.add_router("/contacts", contacts_router)
    api.add_router("/companies", companies_router)
    api.add_router("/events", events_router)
    api.add_router("/handoff", handoff_router)
    api.add_router("/contacts", scoring_router)


_register_routers()
