"""Guard: every foreign key declared without a database constraint (``db_constraint=False``) is
checked by the reference triggers of :mod:`servicebook.core.references` in the migrated database
(decision 0031): a key added without them, or a migration that forgot to install them, fails."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

from servicebook.core.references import checked_keys

pytestmark = pytest.mark.django_db


def _pg_triggers() -> dict[tuple[str, str], list[str]]:
    """(table, trigger name) → the trigger's arguments."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname, tgargs FROM pg_trigger "
            "WHERE NOT tgisinternal AND tgname ~ '_refs_(insert|update|delete|renumber)$'"
        )
        return {
            (table.strip('"'), name): bytes(args).decode().split("\x00")[:-1]
            for table, name, args in cursor.fetchall()
        }


def _sqlite_triggers() -> dict[tuple[str, str], str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'trigger'")
        return {(table, name): sql for table, name, sql in cursor.fetchall()}


def test_the_models_have_keys_checked_by_triggers():
    keys = checked_keys(apps)
    assert ("offering_id", "catalog_offering") in keys["finance_invoiceline"]
    assert ("statement_id", "finance_statement") in keys["finance_statementline"]


def test_every_key_without_a_constraint_is_checked_by_a_trigger():
    keys = checked_keys(apps)
    if connection.vendor == "postgresql":
        triggers = _pg_triggers()
        for table, pairs in keys.items():
            for event in ("insert", "update"):
                args = triggers.get((table, f"{table}_refs_{event}"))
                assert args is not None, f"{table}: no {event} trigger"
                assert list(zip(args[::2], args[1::2], strict=True)) == pairs, table
            for column, parent in pairs:
                for event in ("delete", "renumber"):
                    args = triggers.get((parent, f"{parent}_refs_{event}"), [])
                    covered = list(zip(args[::2], args[1::2], strict=True))
                    assert (table, column) in covered, f"{parent}: {event} unchecked for {table}"
    else:
        triggers = _sqlite_triggers()
        for table, pairs in keys.items():
            for event in ("insert", "update"):
                sql = triggers.get((table, f"{table}_refs_{event}"))
                assert sql is not None, f"{table}: no {event} trigger"
                for column, parent in pairs:
                    assert f'NEW."{column}"' in sql and f'FROM "{parent}"' in sql, (table, column)
                    renumber = triggers.get((parent, f"{parent}_refs_renumber"), "")
                    assert f'FROM "{table}" WHERE "{column}" = OLD.id' in renumber, (table, column)


def test_every_key_without_a_constraint_has_an_index_for_the_parent_side():
    """The parent side looks the children up by the key: Django indexes every foreign key
    unless told not to, and a key checked by triggers must keep its index."""
    for model in apps.get_models():
        for field in model._meta.local_fields:
            if field.many_to_one and not field.db_constraint:
                assert field.db_index, f"{model._meta.db_table}.{field.column}: no index"
