"""``servicebook init``: set up a real provider and its first administrator on an empty
database (migrating it first). Asks for what is missing unless ``--no-input``.

Refusals are ``DomainError`` (one line, exit 2, from ``servicebook.cli.main``): this module is
imported by ``servicebook.cli``, which may run as ``__main__``, so it never imports its classes."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

SECTORS = ("commercial", "non_profit", "government")


def register(sub) -> None:
    init = sub.add_parser(
        "init", help="set up your own provider and its first administrator (not the demo)"
    )
    init.add_argument("--provider", help="the provider's name, e.g. 'Acme IT Services'")
    init.add_argument("--sector", choices=SECTORS, help="commercial, non_profit or government")
    init.add_argument("--currency", help="base currency (ISO 4217), e.g. EUR")
    init.add_argument("--country", help="home country (ISO 3166), e.g. FR")
    init.add_argument("--admin-user", help="the first administrator's user name")
    init.add_argument("--admin-email", help="the first administrator's e-mail address")
    init.add_argument(
        "--admin-password-file", help="a file whose first line is the administrator's password"
    )
    init.add_argument(
        "--no-input", action="store_true", help="never ask: refuse when something is missing"
    )
    init.add_argument("--json", action="store_true", help="print a JSON summary")
    init.set_defaults(func=cmd_init)


def _ask(args, name: str, question: str, default: str = "") -> str:
    value = getattr(args, name)
    if value:
        return value.strip()
    option = "--" + name.replace("_", "-")
    if args.no_input:
        from servicebook.core.errors import DomainError

        raise DomainError(f"{option} is required with --no-input")
    shown = f" [{default}]" if default else ""
    answer = input(f"{question}{shown}: ").strip()
    return answer or default


def _password(args) -> str:
    from servicebook.core.errors import DomainError as CommandError

    if args.admin_password_file:
        path = Path(args.admin_password_file)
        if not path.is_file():
            raise CommandError(f"{args.admin_password_file}: no such file")
        lines = path.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    if args.no_input:
        raise CommandError("--admin-password-file is required with --no-input")
    first = getpass.getpass("Administrator's password: ")
    if first != getpass.getpass("The same password again: "):
        raise CommandError("the two passwords differ: nothing changed")
    return first


def cmd_init(args: argparse.Namespace) -> int:
    from servicebook.cli import migrate, print_json, setup_django

    setup_django()
    migrate()
    from django.db import transaction

    from servicebook.finance.billing.tax import seed_rates
    from servicebook.parties.setup import provider_exists, set_up_provider

    if provider_exists():  # before asking anything
        from servicebook.core.errors import DomainError

        raise DomainError("a provider is set up already: nothing changed")
    answers = {  # asked before the transaction: never hold the database while a person types
        "name": _ask(args, "provider", "Provider's name"),
        "sector": _ask(args, "sector", "Sector (commercial, non_profit, government)", "commercial"),
        "currency": _ask(args, "currency", "Base currency (ISO 4217)", "EUR").upper(),
        "country": _ask(args, "country", "Home country (ISO 3166)").upper(),
        "admin_username": _ask(args, "admin_user", "Administrator's user name", "admin"),
        "admin_email": _ask(args, "admin_email", "Administrator's e-mail address"),
        "admin_password": _password(args),
    }
    with transaction.atomic():  # the provider and its starting VAT rates, or nothing
        provider, admin = set_up_provider(**answers)
        rates = seed_rates(provider.country)
    summary = {
        "provider": provider.name,
        "sector": provider.sector,
        "admin": admin.username,
        "tax_rates": [f"{rate.jurisdiction} {rate.kind} {rate.rate}%" for rate in rates],
    }
    if args.json:
        print_json(summary)
    else:
        print(
            f"Set up {provider.name} ({provider.get_sector_display()}, {provider.base_currency})."
        )
        if rates:
            shown = ", ".join(f"{rate.kind} {rate.rate}%" for rate in rates)
            print(f"VAT rates of {provider.country} to start with (check them): {shown}.")
        else:
            print(f"No VAT rates known for {provider.country!r}: add yours under VAT rates.")
        print(f"Serve it and sign in as {admin.username} to add customers and the catalog:")
        print("  servicebook serve")
    sys.stdout.flush()
    return 0
