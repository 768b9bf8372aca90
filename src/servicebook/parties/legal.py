"""The legal identifiers an invoice must carry, checked where they are entered: EU VAT numbers
(``stdnum.eu.vat``: the country prefix, the length and the check digits of each member state),
IBAN and BIC (``stdnum.iban``, ``stdnum.bic``).

Each check returns the number in its compact form (``DE 136 695 976`` -> ``DE136695976``) or
raises a ``ValidationError`` that says why, for the model field it is attached to.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.eu import vat as stdnum_vat
from stdnum.exceptions import ValidationError as NumberError

#: ISO 3166 codes of the EU member states (VAT prefixes differ for Greece: EL).
EU_MEMBER_STATES = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    }
)
#: VAT prefix -> ISO 3166 country code where the two differ.
_VAT_PREFIX_COUNTRY = {"EL": "GR"}


def compact_vat(value: str) -> str:
    """An EU VAT number in compact form, or ``ValidationError`` naming what is wrong."""
    number = stdnum_vat.compact(value or "")
    if number[:2].upper() not in {p.upper() for p in stdnum_vat.MEMBER_STATES} | {"EL"}:
        raise ValidationError(
            f"{value!r} is not an EU VAT number: it starts with the member state's prefix "
            "(e.g. DE, FR, NL, EL for Greece)"
        )
    try:
        return stdnum_vat.validate(number)
    except NumberError as error:
        raise ValidationError(f"{value!r} is not a valid VAT number: {error}") from None


def vat_country(number: str) -> str:
    """The ISO 3166 country of a (valid, compact) EU VAT number: ``EL…`` is Greece (GR)."""
    prefix = (number or "")[:2].upper()
    return _VAT_PREFIX_COUNTRY.get(prefix, prefix)


def compact_iban(value: str) -> str:
    try:
        return stdnum_iban.validate(value or "")
    except NumberError as error:
        raise ValidationError(f"{value!r} is not a valid IBAN: {error}") from None


def compact_bic(value: str) -> str:
    try:
        return stdnum_bic.validate(value or "")
    except NumberError as error:
        raise ValidationError(f"{value!r} is not a valid BIC: {error}") from None


CHECKS = {"vat_number": compact_vat, "iban": compact_iban, "bic": compact_bic}


def clean_identifiers(obj, fields: tuple[str, ...]) -> dict[str, list[str]]:
    """Check and compact the identifiers ``fields`` of ``obj`` (empty values pass): the errors
    by field, for ``Model.clean``."""
    errors: dict[str, list[str]] = {}
    for name in fields:
        value = (getattr(obj, name) or "").strip()
        if not value:
            continue
        try:
            setattr(obj, name, CHECKS[name](value))
        except ValidationError as error:
            errors.setdefault(name, []).extend(error.messages)
    return errors
