"""PostgreSQL: a deferred check refusing unbalanced entries at commit, and triggers refusing
any change to a posted ledger row (installed by migrations ``0001_money`` and, the balance check
once a commit, ``0010``; SQLite relies on the model checks and ``ledger verify``)."""

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


#: The balance check once a transaction, set-based (issue 14): a statement-level trigger queues
#: the entries a statement gave lines to (its transition table), and one deferred constraint
#: trigger a transaction (on a row of ``finance_journal_check``) checks every queued entry at
#: commit, entry by entry through the lines' entry index, instead of one check a line. It refuses
#: exactly what the row-level trigger refused: an entry, new or already posted, whose lines do
#: not balance per currency or in the base currency once the transaction commits (or at ``SET
#: CONSTRAINTS ALL IMMEDIATE``). Installed by migration ``0010_journal_balance_once_per_commit``.
PG_BATCHED_BALANCE = """
DROP TRIGGER IF EXISTS finance_journalline_balanced ON finance_journalline;
DROP FUNCTION IF EXISTS finance_check_entry_balanced();

CREATE TABLE IF NOT EXISTS finance_journal_unchecked (entry_id bigint PRIMARY KEY);
CREATE TABLE IF NOT EXISTS finance_journal_check (txid bigint PRIMARY KEY);

CREATE OR REPLACE FUNCTION finance_queue_entry_check() RETURNS trigger AS $$
BEGIN
    INSERT INTO finance_journal_unchecked (entry_id)
        SELECT DISTINCT entry_id FROM new_lines ON CONFLICT DO NOTHING;
    INSERT INTO finance_journal_check (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION finance_check_entries_balanced() RETURNS trigger AS $$
DECLARE
    bad record;
BEGIN
    SELECT u.entry_id, b.currency, b.diff INTO bad
      FROM finance_journal_unchecked u
      CROSS JOIN LATERAL (
          SELECT l.currency, SUM(l.debit) - SUM(l.credit) AS diff
            FROM finance_journalline l WHERE l.entry_id = u.entry_id GROUP BY l.currency
      ) b
     WHERE b.diff <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance in % (debits - credits = %)',
            bad.entry_id, bad.currency, bad.diff USING ERRCODE = '23514';
    END IF;
    SELECT u.entry_id, b.diff INTO bad
      FROM finance_journal_unchecked u
      CROSS JOIN LATERAL (
          SELECT SUM(l.base_debit) - SUM(l.base_credit) AS diff
            FROM finance_journalline l
           WHERE l.entry_id = u.entry_id AND l.base_debit IS NOT NULL
      ) b
     WHERE b.diff <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION
            'journal entry % does not balance in the base currency (debits - credits = %)',
            bad.entry_id, bad.diff USING ERRCODE = '23514';
    END IF;
    DELETE FROM finance_journal_unchecked;
    DELETE FROM finance_journal_check WHERE txid = NEW.txid;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS finance_journalline_queue_check ON finance_journalline;
CREATE TRIGGER finance_journalline_queue_check AFTER INSERT ON finance_journalline
    REFERENCING NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION finance_queue_entry_check();
DROP TRIGGER IF EXISTS finance_journal_check_balanced ON finance_journal_check;
CREATE CONSTRAINT TRIGGER finance_journal_check_balanced
    AFTER INSERT ON finance_journal_check
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION finance_check_entries_balanced();
"""

PG_BATCHED_BALANCE_DROP = """
DROP TRIGGER IF EXISTS finance_journalline_queue_check ON finance_journalline;
DROP TABLE IF EXISTS finance_journal_check;
DROP TABLE IF EXISTS finance_journal_unchecked;
DROP FUNCTION IF EXISTS finance_queue_entry_check();
DROP FUNCTION IF EXISTS finance_check_entries_balanced();
"""

_ROW_TRIGGER = """
DROP TRIGGER IF EXISTS finance_journalline_balanced ON finance_journalline;
CREATE CONSTRAINT TRIGGER finance_journalline_balanced
    AFTER INSERT OR UPDATE OR DELETE ON finance_journalline
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION finance_check_entry_balanced();
"""


def install_pg_batched_balance(apps, schema_editor) -> None:
    """Migration step: the balance check once a commit, set-based (PostgreSQL only)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BATCHED_BALANCE, params=None)


def restore_pg_row_balance(apps, schema_editor) -> None:
    """Reverse: the row-level deferred check of migrations 0001 and 0004 again."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BATCHED_BALANCE_DROP + PG_BASE_BALANCE + _ROW_TRIGGER, params=None)
