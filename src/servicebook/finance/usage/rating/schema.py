"""Rating's tables: the charge models, exact decimal types, the schemas of prices,
tiers and charge lines, and how an Arrow table is made to fit one."""

from __future__ import annotations

from pathlib import Path

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

#: charge models understood by the engine
CHARGE_MODELS = ("flat", "per_unit", "graduated", "volume", "package")


QUANTITY_TYPE = pa.decimal128(18, 6)  # one usage record


LINE_QUANTITY_TYPE = pa.decimal128(38, 6)  # a period total


PRICE_TYPE = pa.decimal128(38, 10)


AMOUNT_TYPE = pa.decimal128(38, 4)


TS_TYPE = pa.timestamp("us", tz="UTC")


CALC = "decimal(38, 10)"  # operand type of every product: results are decimal(38, 20)


CALC_PRODUCT = "decimal(38, 20)"


UNIT_US_TYPE = "decimal(38, 6)"  # a flat line's quantity (6 decimals) x whole microseconds


USAGE_COLUMNS = {
    "customer_id": pa.int64(),
    "offering_id": pa.int64(),
    "quantity": QUANTITY_TYPE,
    "start_time": TS_TYPE,
    "end_time": TS_TYPE,
}


PRICE_SCHEMA = pa.schema(
    [
        ("price_id", pa.int64()),
        ("customer_id", pa.int64()),
        ("offering_id", pa.int64()),
        ("valid_from", TS_TYPE),
        ("valid_to", TS_TYPE),
        ("charge_model", pa.string()),
        ("unit_price", PRICE_TYPE),
        ("package_size", LINE_QUANTITY_TYPE),
        ("currency", pa.string()),
        ("tier_set_id", pa.int64()),
        ("unit", pa.string()),
    ]
)


TIER_SCHEMA = pa.schema(
    [
        ("tier_set_id", pa.int64()),
        ("lower_bound", LINE_QUANTITY_TYPE),
        ("upper_bound", LINE_QUANTITY_TYPE),
        ("unit_price", PRICE_TYPE),
    ]
)


#: schema of the charge lines returned by :func:`rate`
CHARGE_LINE_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("offering_id", pa.int64()),
        ("period", pa.string()),
        ("currency", pa.string()),
        ("status", pa.string()),  # 'rated' | 'unrated'
        ("reason", pa.string()),  # why a line is unrated, else null
        ("charge_model", pa.string()),
        ("quantity", LINE_QUANTITY_TYPE),  # usage quantity (unit-periods for flat)
        ("rated_quantity", LINE_QUANTITY_TYPE),  # billed quantity (packages for package)
        ("unit", pa.string()),
        ("amount", AMOUNT_TYPE),
        ("records", pa.int64()),
        ("price_id", pa.int64()),
        ("price_scope", pa.string()),  # 'customer' (override) | 'list'
        ("unit_price", PRICE_TYPE),
        ("package_size", LINE_QUANTITY_TYPE),
        ("tier_set_id", pa.int64()),
        ("valid_from", TS_TYPE),
        ("valid_to", TS_TYPE),
    ]
)


TableLike = pa.Table | str | Path | ir.Table


class RatingInputError(ValueError):
    """The price or tier tables are inconsistent (overlaps, unknown models, gaps in tiers)."""


def to_utc(arr: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    if pa.types.is_timestamp(arr.type) and arr.type.tz is None:
        arr = pc.assume_timezone(arr, "UTC")
    return pc.cast(arr, TS_TYPE)


def conform(table: pa.Table, schema: pa.Schema, what: str) -> pa.Table:
    """Select and cast the columns of ``schema``; missing nullable columns become null."""
    columns = []
    for field in schema:
        if field.name in table.column_names:
            col = table[field.name]
            try:
                if pa.types.is_timestamp(field.type):
                    col = to_utc(col)
                elif pa.types.is_floating(col.type):
                    raise RatingInputError(
                        f"{what}.{field.name} is floating point; give exact decimals"
                    )
                col = pc.cast(col, field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise RatingInputError(
                    f"{what}.{field.name}: cannot use as {field.type}: {exc}"
                ) from exc
            columns.append(col)
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.table(columns, schema=schema)
