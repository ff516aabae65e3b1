from typing import Any

from django.http import HttpRequest

from renkei.accounts.roles import user_role


def roles(request: HttpRequest) -> dict[str, Any]:
    return {"user_role": user_role(request.user) if hasattr(request, "user") else ""}
