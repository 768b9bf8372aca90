"""Country codes are checked against ISO 3166-1, not only their shape (decision 0029)."""

import pytest
from django.core.exceptions import ValidationError

from servicebook.core.countries import (
    CountryCodeValidator,
    country_code,
    country_error,
    country_name,
    is_country,
)


@pytest.mark.parametrize("code", ["FR", "DE", "US", "SG", "GB", "GR", "JP", "NL"])
def test_iso_codes_are_countries(code):
    assert is_country(code) and country_error(code) is None
    country_code(code)  # no error


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("UK", "use GB"),
        ("EL", "use GR"),
        ("fr", "in capitals, e.g. FR"),
        ("ZZ", "'ZZ' is not an ISO 3166-1"),
        ("FRA", "not an ISO 3166-1"),
        ("", "not an ISO 3166-1"),
        (None, "not an ISO 3166-1"),
        (42, "not an ISO 3166-1"),
    ],
)
def test_other_codes_are_refused_with_a_reason(code, words):
    assert not is_country(code)
    assert words in country_error(code)
    with pytest.raises(ValidationError) as refused:
        country_code(code)
    assert refused.value.messages == [country_error(code)]


def test_the_validator_is_stable_for_migrations():
    assert CountryCodeValidator() == country_code
    assert hash(CountryCodeValidator()) == hash(country_code)
    path, args, kwargs = country_code.deconstruct()
    assert path == "servicebook.core.countries.CountryCodeValidator" and not args and not kwargs


def test_country_names_come_from_the_standard():
    assert country_name("DE") == "Germany"
    assert country_name("ZZ") == "ZZ"
