"""The document lines' references (to their invoice or statement, service and offering) are
checked by triggers once a statement instead of constraints a row at a time (decision 0031):
the same refusals a constraint gives, on both databases, and the same lock on PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from servicebook.catalog.models import Offering
from servicebook.finance.billing.models import InvoiceLine, StatementLine
from servicebook.finance.ledger import posting

MISSING = 987_654_321

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the parent side is checked on PostgreSQL"
)


def _line(model):
    line = model.objects.filter(offering__isnull=False).first()
    assert line is not None, f"the demo has {model.__name__} rows"
    return line


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
    settings = connection.settings_dict
    info = f"host={settings['HOST']} port={settings['PORT'] or 5432} dbname={settings['NAME']}"
    info += f" user={settings['USER']}"
    with psycopg.connect(info) as writer, psycopg.connect(info) as deleter:
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
