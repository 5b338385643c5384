"""tend.core.paging: a count that stops at its cap, in one query, for any model."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from model_bakery import baker

from tend.core.paging import capped_count
from tend.crm.models import ObjectType


@pytest.fixture
def five_types(db):
    baker.make(ObjectType, _quantity=5, name=iter(f"custom_{i}" for i in range(5)))
    return ObjectType.objects.filter(name__startswith="custom_")


def test_under_the_cap_the_count_is_exact_and_not_capped(five_types):
    types = five_types
    assert capped_count(types, cap=10) == (5, False)


def test_at_the_cap_the_count_is_exact(five_types):
    types = five_types
    assert capped_count(types, cap=5) == (5, False)


def test_past_the_cap_the_count_says_cap_and_capped(five_types):
    types = five_types
    assert capped_count(types, cap=4) == (4, True)
    assert capped_count(types, cap=0) == (0, True)


def test_an_empty_queryset_counts_zero(db):
    assert capped_count(ObjectType.objects.none(), cap=10) == (0, False)
    assert capped_count(ObjectType.objects.filter(name="no such type"), cap=10) == (0, False)


def test_one_query_that_limits_the_rows_it_reads_and_does_not_sort_them(five_types):
    types = five_types
    with CaptureQueriesContext(connection) as ctx:
        capped_count(types.order_by("-name"), cap=3)
    assert len(ctx.captured_queries) == 1
    sql = ctx.captured_queries[0]["sql"]
    assert "LIMIT 4" in sql
    assert "ORDER BY" not in sql


def test_a_list_is_counted_the_same_way():
    assert capped_count([1, 2, 3], cap=2) == (2, True)
    assert capped_count([1, 2, 3], cap=3) == (3, False)


def test_a_negative_cap_is_refused(db):
    with pytest.raises(ValueError):
        capped_count(ObjectType.objects.all(), cap=-1)
