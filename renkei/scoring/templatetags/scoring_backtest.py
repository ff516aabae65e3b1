"""Formatting of backtest figures: a ratio, a percentage, a signed change; "—" for none."""

from django import template

register = template.Library()
NONE = "—"


@register.filter
def ratio(value: float | None, digits: int = 3) -> str:
    return NONE if value is None else f"{value:.{int(digits)}f}"


@register.filter
def percent(value: float | None) -> str:
    return NONE if value is None else f"{value * 100:.1f}%"


@register.filter
def signed(value: int) -> str:
    return f"{value:+,}"
