"""Usage rating: one Ibis definition that runs on DuckDB (default) and on PySpark.

Rating turns metered usage (VM hours, GB-months, seats, API calls...) into *charge lines*: one
line per customer, offering, period, currency and price row, carrying the quantity consumed, the
quantity actually billed, and the amount.  The Ibis expressions are compiled to DuckDB SQL for
the embedded, single-machine case; when one machine is not enough, Spark reads the records and
reduces them to a few rows per customer and offering (:func:`.expressions.reduce_records`),
which the embedded DuckDB prices with the same expressions (decision 0034).  The test suite
rates the same data both ways and asserts identical lines to the cent.

Contract with the caller (the Django side)
------------------------------------------
The engine is **policy-agnostic**.  Before rating, the caller turns its customer policy into price
rows: internal customers get their own rows (cost x (1 + allowed margin)), external customers get
their contract prices as per-customer overrides, everybody else falls back to the list price
(``customer_id`` null).  Usage has already passed :func:`servicebook.finance.usage.records.validate`
(known customer and offering, unit matching the offering, non-negative quantity), so the unit
of a record is its offering's unit: rating never reads the usage ``unit`` column (a string column
is the dearest thing to scan and group by) and labels each line with the unit its price rows
quote.

Inputs (Arrow tables, Parquet paths/globs or Ibis tables; extra columns are ignored)
-----------------------------------------------------------------------------------
``usage``   record_id string, customer_id int64, offering_id int64, quantity decimal(18, 6),
            start_time / end_time timestamp (UTC).
``prices``  price_id int64, customer_id int64 (null = list price for everybody, set = override
            for that customer), offering_id int64, valid_from timestamp, valid_to timestamp
            (null = open-ended; exclusive), charge_model one of ``flat``, ``per_unit``,
            ``graduated``, ``volume``, ``package``, unit_price decimal (scale <= 10; null for tiered
            models), package_size decimal (package only), currency string (ISO 4217),
            tier_set_id int64 (graduated/volume only), unit string (the offering's unit the
            price is quoted per; every price row of an offering that states one states the same).
``tiers``   tier_set_id int64, lower_bound decimal (inclusive), upper_bound decimal (exclusive,
            null = unbounded), unit_price decimal.  A tier set must start at 0, be contiguous and
            end unbounded; this is checked before rating.

Semantics
---------
* Period: ``"YYYY-MM"`` in UTC.  Metered usage belongs to the period of its ``start_time``.
  A record without a quantity is no usage (the import refuses them); a subscription record
  counts where its interval overlaps the period (an end at the period's start or before it, or
  no end, is none).
* Price in force: the price row whose ``[valid_from, valid_to)`` contains the usage
  ``start_time``; a customer override beats the list price.  Overlapping rows of the same scope
  are rejected before rating (they would double-charge).  Usage with no price in force comes out
  as an explicit ``status = 'unrated'`` line (amount null) -- never silently dropped.
* ``per_unit``: amount = quantity x unit_price.
* ``graduated``: each slice of the line's period total is priced at its own tier
  (first 1,000 at 0.10, the next 9,000 at 0.08, ...).  A negative total (corrections only)
  rates at zero, graduated or volume.
* ``volume``: the whole period total is priced at the tier the total falls in.
* ``package``: quantity rounded UP to whole packages of ``package_size``; unit_price per package.
  ``rated_quantity`` is the number of packages.
* ``flat``: unit_price is a price *per unit per whole period* (a subscription fee, a seat fee).
  Flat lines come in as **subscription records** in the usage table: one record per subscription
  (or seat block) whose ``[start_time, end_time)`` is the subscribed interval and whose quantity is
  the number of subscribed units (1 for a plain subscription).  The amount is
  quantity x unit_price x (seconds of the interval that fall in the period *while that flat price
  is in force*) / (seconds in the period) -- so a subscription that starts mid-month, or a price
  that changes mid-month, is prorated.  ``rated_quantity`` is the number of unit-periods
  (e.g. 0.5 for one seat during half of the month).  Proration is at microsecond resolution.
* Tiers apply to the period total of the line, i.e. per (customer, offering, price row).

Exactness and rounding
----------------------
Quantities are decimal(18, 6) per record and decimal(38, 6) per line; prices have scale 10;
intermediate products are computed as decimal(38, 20) on both engines (on Spark this requires
``spark.sql.decimalOperations.allowPrecisionLoss=false``, which :func:`rate` sets).  No value
goes through floating point: the package count uses a float estimate that is then corrected with
exact decimal comparisons.  The amount is rounded ONCE per line, half-up (half away from zero), to
the currency's minor unit (:data:`servicebook.core.money.MINOR_UNITS`, 2 for a code it does not
list, or overridden), and returned as decimal(38, 4).  Flat (prorated) lines are divided by the
period length in the shared Python finishing step with :mod:`decimal` because SQL engines
disagree on decimal division.
"""

from servicebook.finance.usage.rating.engine import rate
from servicebook.finance.usage.rating.reference import rate_python
from servicebook.finance.usage.rating.schema import (
    AMOUNT_TYPE,
    CHARGE_LINE_SCHEMA,
    CHARGE_MODELS,
    LINE_QUANTITY_TYPE,
    PRICE_SCHEMA,
    PRICE_TYPE,
    QUANTITY_TYPE,
    TIER_SCHEMA,
    RatingInputError,
)

__all__ = [
    "AMOUNT_TYPE",
    "CHARGE_LINE_SCHEMA",
    "CHARGE_MODELS",
    "LINE_QUANTITY_TYPE",
    "PRICE_SCHEMA",
    "PRICE_TYPE",
    "QUANTITY_TYPE",
    "TIER_SCHEMA",
    "RatingInputError",
    "rate",
    "rate_python",
]
