"""Country codes: ISO 3166-1 alpha-2, checked against the standard's list (decision 0029).

A code of two capital letters is not enough: ``UK`` and ``EL`` look right but are not ISO codes
(the United Kingdom is ``GB``; ``EL`` is Greece's VAT prefix, its country code is ``GR``), and a
typo such as ``FX`` would give a customer no VAT rate, no Peppol scheme and no holidays.
"""

from __future__ import annotations

import pycountry
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

#: codes people type for a country whose ISO code differs
COMMON_MISTAKES = {"UK": "GB", "EL": "GR", "EN": "GB"}


def is_country(code: object) -> bool:
    """Whether ``code`` is an ISO 3166-1 alpha-2 code (upper case), e.g. ``FR``."""
    return (
        isinstance(code, str)
        and len(code) == 2
        and code.isupper()
        and pycountry.countries.get(alpha_2=code) is not None
    )


def country_error(code: object) -> str | None:
    """Why ``code`` is not a country code, or None when it is one."""
    if is_country(code):
        return None
    text = str(code)
    hint = COMMON_MISTAKES.get(text.upper())
    if hint:
        return f"{text!r} is not an ISO 3166-1 country code: use {hint}"
    if isinstance(code, str) and is_country(code.upper()):
        return f"{text!r}: write country codes in capitals, e.g. {code.upper()}"
    return f"{text!r} is not an ISO 3166-1 alpha-2 country code (e.g. FR, DE, US)"


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country is not None else code


@deconstructible
class CountryCodeValidator:
    """Model and form validator: the value is an ISO 3166-1 alpha-2 code."""

    code = "invalid_country"

    def __call__(self, value: object) -> None:
        message = country_error(value)
        if message is not None:
            raise ValidationError(message, code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CountryCodeValidator)

    def __hash__(self) -> int:
        return hash(self.code)


country_code = CountryCodeValidator()
