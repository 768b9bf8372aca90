"""``web.lists.ListRows`` sorts rows computed in Python exactly as django-tables2 sorts a list
(each row's values read once instead of at every comparison): the same order for every column,
both directions, blanks, nested accessors, methods and dictionaries."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

import django_tables2 as tables
import pytest
from django_tables2.data import TableListData

from servicebook.web.lists import ListRows


@dataclass
class Owner:
    name: str


@dataclass
class Row:
    pk: int
    owner: Owner
    score: int
    amount: Decimal | None
    rank: tuple

    def label(self) -> str:
        return f"{self.owner.name}-{self.score}"


class RowTable(tables.Table):
    owner = tables.Column(accessor="owner__name", order_by=("owner__name", "pk"))
    score = tables.Column(order_by=("-score", "rank"))
    amount = tables.Column()
    rank = tables.Column()
    label = tables.Column(accessor="label")


def _rows(n: int = 300) -> list[Row]:
    pick = random.Random(14)
    names = ["Acme", "Beta", "acme", "Zed", "Émile"]
    return [
        Row(
            pk=i,
            owner=Owner(pick.choice(names)),
            score=pick.randint(0, 4),
            amount=None if pick.random() < 0.2 else Decimal(pick.randint(-500, 500)) / 10,
            rank=(pick.randint(0, 2), -pick.randint(0, 5), pick.choice(names)),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize(
    "sort",
    [
        "owner",
        "-owner",
        "score",
        "-score",
        "amount",
        "-amount",
        "rank",
        "-rank",
        "label",
        "-label",
        "score,owner",
        "-amount,-owner",
    ],
)
def test_the_order_is_django_tables2s(sort):
    rows = _rows()
    theirs = RowTable(data=TableListData(list(rows)), order_by=sort)
    ours = RowTable(data=ListRows(list(rows)), order_by=sort)
    assert [r.pk for r in ours.data.data] == [r.pk for r in theirs.data.data]


def test_dictionary_rows_and_values_that_do_not_compare_fall_back_to_tables2():
    rows = [
        {"owner": {"name": n}, "score": s, "amount": a, "rank": (0,), "label": "x", "pk": i}
        for i, (n, s, a) in enumerate([("b", 1, "x"), ("a", 2, 3), ("c", 0, None)])
    ]
    for sort in ("owner", "-score", "amount"):
        theirs = RowTable(data=TableListData(list(rows)), order_by=sort)
        ours = RowTable(data=ListRows(list(rows)), order_by=sort)
        assert [r["pk"] for r in ours.data.data] == [r["pk"] for r in theirs.data.data]
