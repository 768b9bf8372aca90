"""References checked by the database once a statement (decision 0031).

A foreign key declared with ``db_constraint=False`` has no constraint of the database's own; these
triggers check it instead, for tables written in bulk (a period close copies two million document
lines at 100,000 customers). PostgreSQL checks a constraint a row at a time, one lookup and one
row lock on the parent for each line; here one statement-level trigger checks all the rows a
statement wrote at once, from its transition table:

* **child side** (after ``INSERT`` or ``UPDATE`` of the table holding the key): every non-null
  key must name an existing parent row, and the parents named are locked ``FOR KEY SHARE`` until
  the transaction ends, exactly as a constraint's check locks them, so that no other transaction
  can delete one before this one commits;
* **parent side** (after ``DELETE`` on the parent): no deleted row may still be referenced.

Both raise SQLSTATE 23503 (foreign_key_violation), which Django reports as ``IntegrityError``,
like a constraint. Unlike a constraint the check is not deferrable: it runs at the end of each
statement (the rows a close writes were already checked so, see ``billing.write``).

On SQLite, row triggers check the child side (SQLite checks a row at a time anyway). The parent
side there is Django's ``on_delete`` (``PROTECT``, ``CASCADE``), the only way rows are deleted:
a trigger refusing deletes would break the test runner's flush, which empties tables in any
order. ``TRUNCATE`` on PostgreSQL is not checked (only the test runner uses it).

Which keys are checked is read from the models (every ``ForeignKey`` with ``db_constraint=False``
whose table and parent are managed); a migration that adds or changes one calls
:func:`install_reference_checks` again, and ``tests/guards/test_references.py`` checks that every
such key is covered.
"""

from __future__ import annotations

from collections import defaultdict

#: the two PostgreSQL functions, taking (column, parent table) or (child table, column) pairs
PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION servicebook_check_references() RETURNS trigger AS $$
DECLARE
    col text; parent text; wanted bigint; found bigint; missing text;
BEGIN
    FOR i IN 0 .. TG_NARGS / 2 - 1 LOOP
        col := TG_ARGV[2 * i]; parent := TG_ARGV[2 * i + 1];
        EXECUTE format('SELECT count(DISTINCT %1$I) FROM new_rows', col) INTO wanted;
        CONTINUE WHEN wanted = 0;
        EXECUTE format(
            'SELECT count(*) FROM (SELECT 1 FROM %2$I p WHERE p.id IN '
            '(SELECT %1$I FROM new_rows) FOR KEY SHARE) locked', col, parent) INTO found;
        IF found <> wanted THEN
            EXECUTE format(
                'SELECT n.%1$I::text FROM new_rows n WHERE n.%1$I IS NOT NULL AND NOT EXISTS '
                '(SELECT 1 FROM %2$I p WHERE p.id = n.%1$I) LIMIT 1', col, parent) INTO missing;
            RAISE EXCEPTION
                'insert or update on table "%" violates foreign key %: %=% is not present in '
                'table "%"', TG_TABLE_NAME, col, col, missing, parent
                USING ERRCODE = '23503', TABLE = TG_TABLE_NAME, COLUMN = col;
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION servicebook_refuse_referenced_delete() RETURNS trigger AS $$
DECLARE
    child text; col text; referenced text;
BEGIN
    FOR i IN 0 .. TG_NARGS / 2 - 1 LOOP
        child := TG_ARGV[2 * i]; col := TG_ARGV[2 * i + 1];
        EXECUTE format(
            'SELECT o.id::text FROM old_rows o WHERE EXISTS '
            '(SELECT 1 FROM %1$I c WHERE c.%2$I = o.id) LIMIT 1', child, col) INTO referenced;
        IF referenced IS NOT NULL THEN
            RAISE EXCEPTION
                'update or delete on table "%" violates foreign key %.%: id=% is still '
                'referenced from table "%"', TG_TABLE_NAME, child, col, referenced, child
                USING ERRCODE = '23503', TABLE = TG_TABLE_NAME;
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


def checked_keys(apps) -> dict[str, list[tuple[str, str]]]:
    """Table → its (column, parent table) pairs: the foreign keys of ``apps`` (the migration's
    historical models, or ``django.apps.apps``) declared without a database constraint."""
    keys: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for model in apps.get_models():
        meta = model._meta
        if not meta.managed or meta.proxy:
            continue
        for field in meta.local_fields:
            if field.many_to_one and not field.db_constraint:
                target = field.target_field
                assert target.column == "id", f"{meta.db_table}.{field.column}: not to an id"
                keys[meta.db_table].append((field.column, target.model._meta.db_table))
    return {table: sorted(pairs) for table, pairs in sorted(keys.items())}


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def pg_statements(keys: dict[str, list[tuple[str, str]]]) -> list[str]:
    """The PostgreSQL triggers checking ``keys`` (dropped first: installing again replaces)."""
    statements = [PG_FUNCTIONS]
    referenced: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for table, pairs in keys.items():
        args = ", ".join(_quote(x) for pair in pairs for x in pair)
        for event in ("insert", "update"):
            name = f"{table}_refs_{event}"
            statements.append(
                f'DROP TRIGGER IF EXISTS "{name}" ON "{table}"; '
                f'CREATE TRIGGER "{name}" AFTER {event.upper()} ON "{table}" '
                f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                f"EXECUTE FUNCTION servicebook_check_references({args})"
            )
        for column, parent in pairs:
            referenced[parent].append((table, column))
    for parent, pairs in sorted(referenced.items()):
        args = ", ".join(_quote(x) for pair in sorted(pairs) for x in pair)
        name = f"{parent}_refs_delete"
        statements.append(
            f'DROP TRIGGER IF EXISTS "{name}" ON "{parent}"; '
            f'CREATE TRIGGER "{name}" AFTER DELETE ON "{parent}" '
            f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION servicebook_refuse_referenced_delete({args})"
        )
    return statements


def sqlite_statements(keys: dict[str, list[tuple[str, str]]]) -> list[str]:
    """The SQLite row triggers checking the child side of ``keys``."""
    statements = []
    for table, pairs in keys.items():
        missing = " OR ".join(
            f'(NEW."{column}" IS NOT NULL AND NOT EXISTS '
            f'(SELECT 1 FROM "{parent}" WHERE id = NEW."{column}"))'
            for column, parent in pairs
        )
        message = f"FOREIGN KEY constraint failed: {table} names a missing row"
        for event in ("insert", "update"):
            name = f"{table}_refs_{event}"
            statements.append(f'DROP TRIGGER IF EXISTS "{name}"')
            statements.append(
                f'CREATE TRIGGER "{name}" BEFORE {event.upper()} ON "{table}" '
                f"FOR EACH ROW WHEN {missing} "
                f"BEGIN SELECT RAISE(ABORT, {_quote(message)}); END"
            )
    return statements


def install_reference_checks(apps, schema_editor) -> None:
    """Migration step: (re)install the triggers checking every key without a constraint."""
    keys = checked_keys(apps)
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = pg_statements(keys)
    elif vendor == "sqlite":
        statements = sqlite_statements(keys)
    else:  # pragma: no cover - the two databases Servicebook runs on
        raise NotImplementedError(f"reference checks on {vendor}")
    for statement in statements:
        schema_editor.execute(statement, params=None)


def installed_triggers(connection) -> dict[str, str]:
    """Name → table of the reference triggers in the database (``*_refs_insert`` and co.)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname, tgrelid::regclass::text FROM pg_trigger "
                "WHERE NOT tgisinternal AND tgname ~ '_refs_(insert|update|delete)$'"
            )
        else:
            cursor.execute(
                "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' "
                "AND (name LIKE '%\\_refs\\_insert' ESCAPE '\\' "
                "OR name LIKE '%\\_refs\\_update' ESCAPE '\\' "
                "OR name LIKE '%\\_refs\\_delete' ESCAPE '\\')"
            )
        return {name: table.strip('"') for name, table in cursor.fetchall()}


def drop_reference_checks(apps, schema_editor) -> None:
    """Migration step back: drop every reference trigger (the constraints come back)."""
    postgres = schema_editor.connection.vendor == "postgresql"
    for name, table in installed_triggers(schema_editor.connection).items():
        on = f' ON "{table}"' if postgres else ""
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{name}"{on}', params=None)
    if postgres:
        schema_editor.execute(
            "DROP FUNCTION IF EXISTS servicebook_check_references(); "
            "DROP FUNCTION IF EXISTS servicebook_refuse_referenced_delete()",
            params=None,
        )
