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
* **parent side** (after ``DELETE`` or ``UPDATE`` on the parent): no row deleted, or whose id
  changed, may still be referenced.

Both raise SQLSTATE 23503 (foreign_key_violation), which Django reports as ``IntegrityError``,
like a constraint. Unlike a constraint the check is not deferrable: it runs at the end of each
statement (the rows a close writes were already checked so, see ``billing.write``).

On SQLite, row triggers check the child side (SQLite checks a row at a time anyway) and a
parent's id changed under its lines. Deletes there are Django's ``on_delete`` (``PROTECT``,
``CASCADE``), the only way rows are deleted: a trigger refusing deletes would break the test
runner's flush, which empties tables in any order. ``TRUNCATE`` on PostgreSQL is not checked
(only the test runner uses it).

Which keys are checked is read from the models (every ``ForeignKey`` with ``db_constraint=False``
whose table and parent are managed). On PostgreSQL a migration that adds or changes one runs
:func:`install_reference_checks`; on SQLite the triggers are installed after every ``migrate``
(:func:`after_migrate`). ``tests/guards/test_references.py`` checks that every such key is
covered.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import connections

#: the PostgreSQL functions, taking (column, parent table) or (child table, column) pairs. Like a
#: constraint's checks they run with the rights of the tables' owner (``SECURITY DEFINER``: a role
#: that may insert lines but not lock the catalogue gets a key error, not a permission error) and
#: name every table with its schema (a temporary table cannot stand in for one). They look rows up
#: by index whatever the planner's statistics say (``enable_seqscan = off``): a close fills the
#: documents' tables within one transaction, where they still look empty, and a scan of every
#: document written so far at each statement would grow with the square of the customers.
PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION servicebook_check_references() RETURNS trigger
SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET enable_seqscan = off AS $$
DECLARE
    col text; parent text; keys text; wanted bigint; found bigint; missing text;
BEGIN
    FOR i IN 0 .. TG_NARGS / 2 - 1 LOOP
        col := TG_ARGV[2 * i]; parent := TG_ARGV[2 * i + 1];
        -- the keys to check: all the new rows' (INSERT), or those an UPDATE brought in (a key
        -- left as it was is not checked again, as with a constraint)
        IF TG_OP = 'UPDATE' THEN
            keys := format('SELECT DISTINCT n.%1$I AS k FROM new_rows n WHERE n.%1$I IS NOT '
                'NULL AND NOT EXISTS (SELECT 1 FROM old_rows o WHERE o.%1$I = n.%1$I)', col);
        ELSE
            keys := format('SELECT DISTINCT %1$I AS k FROM new_rows WHERE %1$I IS NOT NULL', col);
        END IF;
        EXECUTE format('SELECT count(*) FROM (%s) keys', keys) INTO wanted;
        CONTINUE WHEN wanted = 0;
        EXECUTE format(
            'SELECT count(*) FROM (SELECT 1 FROM %1$I.%2$I p WHERE p.id IN (SELECT k FROM (%3$s) '
            'keys) FOR KEY SHARE) locked', TG_TABLE_SCHEMA, parent, keys) INTO found;
        IF found <> wanted THEN
            EXECUTE format(
                'SELECT k::text FROM (%3$s) keys WHERE NOT EXISTS '
                '(SELECT 1 FROM %1$I.%2$I p WHERE p.id = keys.k) LIMIT 1',
                TG_TABLE_SCHEMA, parent, keys) INTO missing;
            RAISE EXCEPTION
                'insert or update on table "%" violates foreign key %: %=% is not present in '
                'table "%"', TG_TABLE_NAME, col, col, missing, parent
                USING ERRCODE = '23503', TABLE = TG_TABLE_NAME, COLUMN = col;
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION servicebook_refuse_referenced_delete() RETURNS trigger
SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET enable_seqscan = off AS $$
DECLARE
    child text; col text; gone text; referenced text;
BEGIN
    -- the ids that are gone: every deleted row's, or those an UPDATE changed
    IF TG_OP = 'UPDATE' THEN
        gone := 'SELECT o.id FROM old_rows o WHERE NOT EXISTS '
            '(SELECT 1 FROM new_rows n WHERE n.id = o.id)';
    ELSE
        gone := 'SELECT id FROM old_rows';
    END IF;
    FOR i IN 0 .. TG_NARGS / 2 - 1 LOOP
        child := TG_ARGV[2 * i]; col := TG_ARGV[2 * i + 1];
        EXECUTE format(
            'SELECT g.id::text FROM (%3$s) g WHERE EXISTS '
            '(SELECT 1 FROM %1$I.%2$I c WHERE c.%4$I = g.id) LIMIT 1',
            TG_TABLE_SCHEMA, child, gone, col) INTO referenced;
        IF referenced IS NOT NULL THEN
            RAISE EXCEPTION
                'update or delete on table "%" violates foreign key %.%: id=% is still '
                'referenced from table "%"', TG_TABLE_NAME, child, col, referenced, child
                USING ERRCODE = '23503', TABLE = TG_TABLE_NAME;
        END IF;
        -- a snapshot older than the statement (REPEATABLE READ, SERIALIZABLE) cannot see a line
        -- another transaction committed since: a constraint would look anyway, this cannot
        IF current_setting('transaction_isolation') <> 'read committed' THEN
            EXECUTE format('SELECT g.id::text FROM (%s) g LIMIT 1', gone) INTO referenced;
            IF referenced IS NOT NULL THEN
                RAISE EXCEPTION
                    'rows of table "%" that lines may name are deleted or renumbered at READ '
                    'COMMITTED only', TG_TABLE_NAME USING ERRCODE = '40001';
            END IF;
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


def _by_parent(keys: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
    """Parent table → the (child table, column) pairs naming it."""
    referenced: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for table, pairs in keys.items():
        for column, parent in pairs:
            referenced[parent].append((table, column))
    return {parent: sorted(pairs) for parent, pairs in sorted(referenced.items())}


def pg_statements(keys: dict[str, list[tuple[str, str]]]) -> list[str]:
    """The PostgreSQL functions and the triggers checking ``keys`` (on a database without
    reference triggers: :func:`install_reference_checks` drops those installed before)."""
    statements = [PG_FUNCTIONS]
    for table, pairs in keys.items():
        args = ", ".join(_quote(x) for pair in pairs for x in pair)
        for event, tables in (
            ("insert", "NEW TABLE AS new_rows"),
            ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ):
            name = f"{table}_refs_{event}"
            statements.append(
                f'CREATE TRIGGER "{name}" AFTER {event.upper()} ON "{table}" '
                f"REFERENCING {tables} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION servicebook_check_references({args})"
            )
    for parent, pairs in _by_parent(keys).items():
        args = ", ".join(_quote(x) for pair in pairs for x in pair)
        for event, tables in (
            ("delete", "OLD TABLE AS old_rows"),
            ("renumber", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ):
            name = f"{parent}_refs_{event}"
            statements.append(
                f'CREATE TRIGGER "{name}" AFTER {"DELETE" if event == "delete" else "UPDATE"} '
                f'ON "{parent}" REFERENCING {tables} FOR EACH STATEMENT '
                f"EXECUTE FUNCTION servicebook_refuse_referenced_delete({args})"
            )
    return statements


def sqlite_statements(keys: dict[str, list[tuple[str, str]]]) -> list[str]:
    """The SQLite row triggers checking ``keys``: a line's key on insert and update, a parent's
    id when an update changes it (deletes: Django's ``on_delete``, see the module's text)."""
    statements = []
    for table, pairs in keys.items():
        missing = " OR ".join(
            f'(NEW."{column}" IS NOT NULL AND NOT EXISTS '
            f'(SELECT 1 FROM "{parent}" WHERE id = NEW."{column}"))'
            for column, parent in pairs
        )
        message = f"FOREIGN KEY constraint failed: {table} names a missing row"
        for event in ("insert", "update"):
            statements.append(
                f'CREATE TRIGGER "{table}_refs_{event}" BEFORE {event.upper()} ON "{table}" '
                f"FOR EACH ROW WHEN {missing} "
                f"BEGIN SELECT RAISE(ABORT, {_quote(message)}); END"
            )
    for parent, pairs in _by_parent(keys).items():
        named = " OR ".join(
            f'EXISTS (SELECT 1 FROM "{table}" WHERE "{column}" = OLD.id)' for table, column in pairs
        )
        message = f"FOREIGN KEY constraint failed: a row of {parent} that lines name"
        statements.append(
            f'CREATE TRIGGER "{parent}_refs_renumber" BEFORE UPDATE OF id ON "{parent}" '
            f"FOR EACH ROW WHEN NEW.id IS NOT OLD.id AND ({named}) "
            f"BEGIN SELECT RAISE(ABORT, {_quote(message)}); END"
        )
    return statements


def install_reference_checks(apps, schema_editor) -> None:
    """Migration step: on PostgreSQL, the triggers checking every key without a constraint in
    ``apps``, and no others (those installed before are dropped first). A migration that
    changes which keys are checked runs it after its changes, and again first on the way back,
    so that going back installs what the earlier state asks for.

    On SQLite, nothing: Django alters a table there by copying it into a new one, and a
    trigger naming the table would break the copy (or be lost with the old table); the
    triggers are dropped before each ``migrate`` and installed after it instead
    (:func:`before_migrate`, :func:`after_migrate`)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    _drop_triggers(schema_editor.connection)
    with schema_editor.connection.cursor() as cursor:
        for statement in pg_statements(checked_keys(apps)):
            cursor.execute(statement)


def before_migrate(sender, using, **kwargs) -> None:
    """``pre_migrate`` (SQLite): drop the reference triggers, so that any table can be copied."""
    connection = connections[using]
    if connection.vendor == "sqlite":
        _drop_triggers(connection)


def after_migrate(sender, using, apps=None, **kwargs) -> None:
    """``post_migrate`` (SQLite): the triggers of the migrated state's keys (``flush`` sends
    it too, without a state: the models' own)."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    if apps is None:
        from django.apps import apps
    _drop_triggers(connection)
    with connection.cursor() as cursor:
        for statement in sqlite_statements(checked_keys(apps)):
            cursor.execute(statement)


#: the suffixes of the triggers' names (``<table>_refs_<suffix>``)
SUFFIXES = ("insert", "update", "delete", "renumber")


def installed_triggers(connection) -> dict[str, str]:
    """Name → table of the reference triggers in the database (``*_refs_insert`` and co.)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"
            )
        else:
            cursor.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'")
        return {
            name: table.strip('"')
            for name, table in cursor.fetchall()
            if any(name.endswith(f"_refs_{suffix}") for suffix in SUFFIXES)
        }


def _drop_triggers(connection) -> None:
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        for name, table in installed_triggers(connection).items():
            cursor.execute(
                f'DROP TRIGGER IF EXISTS "{name}"' + (f' ON "{table}"' if postgres else "")
            )


def drop_reference_checks(apps, schema_editor) -> None:
    """Migration step back to before any key was checked so: every reference trigger dropped,
    and the functions (the constraints come back)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    _drop_triggers(schema_editor.connection)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "DROP FUNCTION IF EXISTS servicebook_check_references(); "
            "DROP FUNCTION IF EXISTS servicebook_refuse_referenced_delete()"
        )
