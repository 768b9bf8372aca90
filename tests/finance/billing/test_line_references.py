"""The document lines' references (to their invoice or statement, service and offering), and the
journal lines', are checked by triggers once a statement instead of constraints a row at a time
(decision 0031): the same refusals a constraint gives, on both databases, and the same lock on
PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from servicebook.catalog.models import Offering
from servicebook.finance.billing.models import InvoiceLine, StatementLine
from servicebook.finance.ledger import posting
from servicebook.finance.ledger.models import JournalLine

MISSING = 987_654_321

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the parent side is checked on PostgreSQL"
)


def _line(model):
    line = model.objects.filter(offering__isnull=False).first()
    assert line is not None, f"the demo has {model.__name__} rows"
    return line


def _conninfo() -> str:
    settings = connection.settings_dict
    info = f"host={settings['HOST']} port={settings['PORT'] or 5432} dbname={settings['NAME']}"
    return info + f" user={settings['USER']}"


def _copy(line, **changes):
    """A new row like ``line`` (its own id), with ``changes``."""
    values = {
        f.attname: getattr(line, f.attname) for f in line._meta.concrete_fields if not f.primary_key
    }
    return type(line)(**{**values, **changes})


KEYS = [
    (InvoiceLine, "invoice_id"),
    (InvoiceLine, "service_id"),
    (InvoiceLine, "offering_id"),
    (StatementLine, "statement_id"),
    (StatementLine, "service_id"),
    (StatementLine, "offering_id"),
]


@pytest.mark.parametrize(("model", "key"), KEYS)
def test_a_new_line_naming_a_missing_row_is_refused(model, key):
    line = _line(model)
    before = model.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        _copy(line, **{key: MISSING}).save()
    assert model.objects.count() == before


@pytest.mark.parametrize(("model", "key"), KEYS)
def test_a_line_changed_to_name_a_missing_row_is_refused(model, key):
    line = _line(model)
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=line.pk).update(**{key: MISSING})
    line.refresh_from_db()
    assert getattr(line, key) != MISSING


@pytest.mark.parametrize("key", ["entry_id", "account_id", "customer_id"])
def test_a_journal_line_naming_a_missing_row_is_refused(key):
    """The journal lines' keys are checked the same way (finance 0013)."""
    line = JournalLine.objects.filter(customer__isnull=False).first()
    assert line is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        _copy(line, **{key: MISSING}).save()


def test_lines_naming_existing_rows_are_written_and_null_keys_pass():
    line = _line(InvoiceLine)
    copy = _copy(line, service_id=None, offering_id=None, description="No catalogue entry")
    copy.save()
    assert InvoiceLine.objects.filter(pk=copy.pk, offering__isnull=True).exists()
    StatementLine.objects.bulk_create([_copy(_line(StatementLine)) for _ in range(3)])


@postgres_only
def test_a_close_copying_a_line_to_a_missing_offering_is_refused():
    """The close's bulk path (COPY) is checked the same way, once for the whole statement."""
    line = _line(InvoiceLine)
    fields = ["invoice", "kind", "service", "offering", "description", "quantity"]
    fields += ["unit_price", "amount", "reference", "breakdown", "tax_category"]
    good = (line.invoice_id, line.kind, line.service_id, line.offering_id, "ok", 1, 1, 1)
    good += ("", "[]", "")
    bad = (*good[:3], MISSING, *good[4:])
    refused = pytest.raises(psycopg.errors.ForeignKeyViolation, match=f"offering_id={MISSING}")
    with refused, transaction.atomic():
        posting.fast_insert(InvoiceLine, fields, [good] * 500 + [bad] + [good] * 500)


def test_the_catalogue_entries_lines_name_are_protected_in_django():
    line = _line(InvoiceLine)
    with pytest.raises(ProtectedError), transaction.atomic():
        Offering.objects.filter(pk=line.offering_id).delete()


@postgres_only
@pytest.mark.parametrize(
    ("model", "parent"),
    [
        (InvoiceLine, "catalog_offering"),
        (InvoiceLine, "catalog_service"),
        (InvoiceLine, "finance_invoice"),
        (StatementLine, "finance_statement"),
    ],
)
def test_deleting_a_row_a_line_names_is_refused_by_the_database(model, parent):
    line = _line(model)
    key = {
        "catalog_offering": line.offering_id,
        "catalog_service": line.service_id,
        "finance_invoice": getattr(line, "invoice_id", None),
        "finance_statement": getattr(line, "statement_id", None),
    }[parent]
    refused = pytest.raises(IntegrityError, match="still referenced")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM "{parent}" WHERE id = %s', [key])
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{parent}" WHERE id = %s', [key])
        assert cursor.fetchone() == (1,)


@postgres_only
def test_a_line_being_written_locks_its_offering_as_a_constraint_would(transactional_db):
    """While a transaction holds a new line, another cannot delete the offering it names: the
    delete waits for the lock; once the line is committed, the delete is refused."""
    line = _line(InvoiceLine)
    offering = Offering.objects.get(pk=line.offering_id)
    offering.pk, offering.code = None, "locked-by-a-line"
    offering.save()
    with psycopg.connect(_conninfo()) as writer, psycopg.connect(_conninfo()) as deleter:
        writer.execute(
            "INSERT INTO finance_invoiceline (invoice_id, kind, service_id, offering_id, "
            "description, quantity, unit_price, amount, reference, breakdown, tax_category) "
            "VALUES (%s, %s, %s, %s, 'locked', 1, 1, 1, '', '[]', '')",
            [line.invoice_id, line.kind, line.service_id, offering.pk],
        )
        deleter.execute("SET lock_timeout = '300ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            deleter.execute("DELETE FROM catalog_offering WHERE id = %s", [offering.pk])
        deleter.rollback()
        writer.commit()
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="still referenced"):
            deleter.execute("DELETE FROM catalog_offering WHERE id = %s", [offering.pk])
        deleter.rollback()
    InvoiceLine.objects.filter(offering=offering).delete()
    offering.delete()


@pytest.mark.parametrize(
    ("table", "model", "key"),
    [
        ("finance_statement", StatementLine, "statement_id"),
        ("finance_invoice", InvoiceLine, "invoice_id"),
        ("catalog_offering", InvoiceLine, "offering_id"),
    ],
)
def test_renumbering_a_row_a_line_names_is_refused(table, model, key):
    """Changing a parent's id would leave its lines naming nothing (both databases)."""
    parent = getattr(_line(model), key)
    refused = pytest.raises(IntegrityError)
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'UPDATE "{table}" SET id = id + {MISSING} WHERE id = %s', [parent])
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}" WHERE id = %s', [parent])
        assert cursor.fetchone() == (1,)


@postgres_only
def test_a_temporary_table_cannot_stand_in_for_a_parent():
    """The checks name every table with its schema: a temporary table of the same name, which
    PostgreSQL would look in first, is not read."""
    line = _line(InvoiceLine)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE catalog_service (id bigint)")
        cursor.execute("INSERT INTO catalog_service VALUES (%s)", [MISSING])
        try:
            with pytest.raises(IntegrityError), transaction.atomic():
                InvoiceLine.objects.filter(pk=line.pk).update(service_id=MISSING)
        finally:
            cursor.execute("DROP TABLE pg_temp.catalog_service")


@postgres_only
def test_deleting_a_parent_outside_read_committed_is_refused(transactional_db):
    """An older snapshot (REPEATABLE READ) cannot see a line another transaction committed
    since, where a constraint would: such deletes are refused, to be retried at READ COMMITTED
    (Django's level)."""
    offering = Offering.objects.get(pk=_line(InvoiceLine).offering_id)
    offering.pk, offering.code = None, "deleted-at-repeatable-read"
    offering.save()
    with psycopg.connect(_conninfo()) as deleter:
        deleter.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with pytest.raises(psycopg.errors.SerializationFailure, match="READ COMMITTED"):
            deleter.execute("DELETE FROM catalog_offering WHERE id = %s", [offering.pk])
        deleter.rollback()
        deleter.execute("DELETE FROM catalog_offering WHERE id = %s", [offering.pk])
        deleter.commit()
    assert not Offering.objects.filter(pk=offering.pk).exists()


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite copies tables to alter them")
def test_sqlite_tables_the_triggers_name_can_still_be_altered(transactional_db):
    """Django alters a SQLite table by copying it into a new one, which a trigger naming the
    table would break: ``migrate`` drops the triggers first and installs them after."""
    from django.apps import apps
    from django.core.management import call_command
    from django.db import models

    from servicebook.catalog.models import Service
    from servicebook.core import references

    installed = set(references.installed_triggers(connection))
    assert "catalog_service_refs_renumber" in installed
    references.before_migrate(sender=None, using="default")
    try:
        assert not references.installed_triggers(connection)
        old = Service._meta.get_field("name")
        new = models.CharField(max_length=201)
        new.set_attributes_from_name("name")
        new.model = Service
        with connection.schema_editor() as editor:
            editor.alter_field(Service, old, new)
            editor.alter_field(Service, new, old)
    finally:
        references.after_migrate(sender=None, using="default", apps=apps)
    assert set(references.installed_triggers(connection)) == installed
    call_command("migrate", verbosity=0)  # the signals: dropped, then installed again
    assert set(references.installed_triggers(connection)) == installed
