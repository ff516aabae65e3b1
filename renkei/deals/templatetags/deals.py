"""``{{ amount|yen }}`` → ``¥1,200,000`` (the same in every language)."""

from typing import Any

from django import template

register = template.Library()


@register.filter
def yen(value: Any) -> str:
    try:
        return f"¥{int(value):,}"
    except (TypeError, ValueError):
        return ""
