"""Template filters for Servicebook pages."""

from decimal import Decimal

from django import template
from django.db import models

from servicebook.catalog.models import Unit
from servicebook.core.money import CURRENCIES
from servicebook.parties.models import FundingModel
from servicebook.web import dates

register = template.Library()


@register.filter
def money(amount, currency: str = "") -> str:
    """``{{ amount|money:"EUR" }}`` → ``EUR 1,234.50``; empty for None."""
    if amount is None or amount == "":
        return "—"
    amount = Decimal(amount)
    places = CURRENCIES.get(currency, 2)
    text = f"{amount:,.{places}f}"
    return f"{currency} {text}".strip()


@register.filter
def rate(amount) -> str:
    """A unit price or cost, without trailing zeros beyond two decimals."""
    if amount is None:
        return "—"
    amount = Decimal(amount)
    text = f"{amount.normalize():f}"
    if "." not in text or len(text.split(".")[1]) < 2:
        text = f"{amount:.2f}"
    return text


@register.filter
def sub(value, other):
    """``{{ a|sub:b }}`` → a − b (Decimals; None if either is None)."""
    if value is None or other is None:
        return None
    return Decimal(value) - Decimal(other)


@register.filter
def words(code) -> str:
    """A stored code as words, for pages that show an event's action or state:
    ``{{ "member_added"|words }}`` → ``member added``. Pages never show raw codes."""
    if code is None:
        return ""
    return str(code).replace("_", " ")


# ``{{ invoice.due_date|day }}`` and ``{{ event.at|moment }}``: in the user's locale (web.dates)
register.filter("day", dates.day)
register.filter("moment", dates.moment)


def _label(choices: type[models.TextChoices], code) -> str:
    """A stored choice by its label; a code the choices do not know, in words."""
    try:
        return str(choices(code).label)
    except ValueError:
        return words(code)


@register.filter
def funding_model(code) -> str:
    """``{{ row.funding_model|funding_model }}``: a funding model by its label, not its code."""
    return _label(FundingModel, code)


@register.filter
def unit(code) -> str:
    """``{{ offering.unit|unit }}``: a unit by its label (``VM-hour``, not ``vm_hour``)."""
    return _label(Unit, code)
