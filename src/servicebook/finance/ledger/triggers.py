"""PostgreSQL: a deferred constraint trigger refusing unbalanced entries, and triggers refusing
any change to a posted ledger row (installed by migration ``0001_money``; SQLite relies on the
model checks and ``ledger verify``)."""

from __future__ import annotations

from django.db import connection

BASE_CHECK = """
    SELECT SUM(base_debit) - SUM(base_credit) AS diff INTO bad
      FROM finance_journalline WHERE entry_id = eid AND base_debit IS NOT NULL
      HAVING SUM(base_debit) <> SUM(base_credit);
    IF FOUND THEN
        RAISE EXCEPTION
            'journal entry % does not balance in the base currency (debits - credits = %)',
            eid, bad.diff USING ERRCODE = '23514';
    END IF;
"""


def balance_function(*, base_currency: bool) -> str:
    """The deferred balance check: each currency's debits equal its credits and, from migration
    ``0004_exchange_rates`` (decision 0025), the base-currency amounts too."""
    return f"""
CREATE OR REPLACE FUNCTION finance_check_entry_balanced() RETURNS trigger AS $$
DECLARE
    eid bigint;
    bad record;
BEGIN
    IF TG_OP = 'DELETE' THEN eid := OLD.entry_id; ELSE eid := NEW.entry_id; END IF;
    SELECT currency, SUM(debit) - SUM(credit) AS diff INTO bad
      FROM finance_journalline WHERE entry_id = eid
      GROUP BY currency HAVING SUM(debit) <> SUM(credit) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance in % (debits - credits = %)',
            eid, bad.currency, bad.diff USING ERRCODE = '23514';
    END IF;{BASE_CHECK if base_currency else ""}
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


PG_TRIGGERS = (
    balance_function(base_currency=False)
    + """
DROP TRIGGER IF EXISTS finance_journalline_balanced ON finance_journalline;
CREATE CONSTRAINT TRIGGER finance_journalline_balanced
    AFTER INSERT OR UPDATE OR DELETE ON finance_journalline
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION finance_check_entry_balanced();

CREATE OR REPLACE FUNCTION finance_refuse_ledger_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'posted ledger rows are immutable (%): post an adjustment', TG_TABLE_NAME
        USING ERRCODE = '23514';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS finance_journalline_immutable ON finance_journalline;
CREATE TRIGGER finance_journalline_immutable BEFORE UPDATE OR DELETE ON finance_journalline
    FOR EACH ROW EXECUTE FUNCTION finance_refuse_ledger_change();
DROP TRIGGER IF EXISTS finance_journalentry_immutable ON finance_journalentry;
CREATE TRIGGER finance_journalentry_immutable BEFORE UPDATE OR DELETE ON finance_journalentry
    FOR EACH ROW EXECUTE FUNCTION finance_refuse_ledger_change();
"""
)


PG_TRIGGERS_DROP = """
DROP TRIGGER IF EXISTS finance_journalline_balanced ON finance_journalline;
DROP TRIGGER IF EXISTS finance_journalline_immutable ON finance_journalline;
DROP TRIGGER IF EXISTS finance_journalentry_immutable ON finance_journalentry;
DROP FUNCTION IF EXISTS finance_check_entry_balanced();
DROP FUNCTION IF EXISTS finance_refuse_ledger_change();
"""


def install_pg_triggers(apps, schema_editor) -> None:
    """Migration step: install the triggers on PostgreSQL; a no-op on SQLite."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_TRIGGERS, params=None)


def drop_pg_triggers(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_TRIGGERS_DROP, params=None)


def database_enforces_balance() -> bool:
    return connection.vendor == "postgresql"


#: The balance check again, also refusing an entry whose base-currency amounts do not balance
#: (decision 0025; installed by migration ``0004_exchange_rates``).
PG_BASE_BALANCE = balance_function(base_currency=True)


def install_pg_base_balance(apps, schema_editor) -> None:
    """Migration step: the balance trigger checks the base currency too (PostgreSQL only)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BASE_BALANCE, params=None)


def restore_pg_balance(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_TRIGGERS, params=None)
