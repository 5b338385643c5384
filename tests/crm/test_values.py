"""values.clean_value: the canonical form of every property type, and the message for each rejection."""

import datetime as dt
from decimal import Decimal

import pytest

from tend.crm.models import PropertyType as T
from tend.crm.values import InvalidValue, clean_value, format_datetime, parse_datetime

OPTIONS = [
    {"value": "gold", "label": "Gold"},
    {"value": "silver", "label": "Silver"},
    {"value": "bronze", "label": "B"},
]


def clean(prop_type, raw, **kwargs):
    return clean_value(prop_type, raw, options=OPTIONS, **kwargs)


def rejection(prop_type, raw, **kwargs) -> str:
    with pytest.raises(InvalidValue) as excinfo:
        clean(prop_type, raw, **kwargs)
    return str(excinfo.value)


@pytest.mark.parametrize("prop_type", list(T))
@pytest.mark.parametrize("empty", [None, "", []])
def test_an_empty_value_of_any_type_is_no_value(prop_type, empty):
    assert clean(prop_type, empty) is None


@pytest.mark.parametrize(
    ("prop_type", "raw", "expected"),
    [
        # text is kept as written (no trimming, no case change)
        (T.TEXT, "Acme GmbH", "Acme GmbH"),
        (T.TEXT, "x" * 1000, "x" * 1000),
        (T.LONG_TEXT, "line one\nline two\r\n", "line one\nline two\r\n"),
        (T.LONG_TEXT, "y" * 65_536, "y" * 65_536),
        # numbers: whole numbers become int, others float
        (T.NUMBER, "12", 12),
        (T.NUMBER, " 12 ", 12),
        (T.NUMBER, "12.0", 12),
        (T.NUMBER, 12.0, 12),
        (T.NUMBER, "-3.25", -3.25),
        (T.NUMBER, 0.1, 0.1),
        (T.NUMBER, "1e3", 1000),
        (T.NUMBER, Decimal("7.5"), 7.5),
        (T.NUMBER, 999_999_999_999_999, 999_999_999_999_999),
        (T.NUMBER, "-999999999999999", -999_999_999_999_999),
        (T.NUMBER, "0.1234567", 0.1234567),
        # currency: rounded half up to cents, as written in decimal
        (T.CURRENCY, "1200.50", 1200.5),
        (T.CURRENCY, "1200.00", 1200),
        (T.CURRENCY, 1200, 1200),
        (T.CURRENCY, "0.125", 0.13),
        (T.CURRENCY, 0.125, 0.13),
        (T.CURRENCY, "2.675", 2.68),
        (T.CURRENCY, "-2.675", -2.68),
        (T.CURRENCY, "10.004", 10),
        (T.CURRENCY, "99.999", 100),
        # dates and datetimes
        (T.DATE, "2026-05-01", "2026-05-01"),
        (T.DATE, " 2026-05-01 ", "2026-05-01"),
        (T.DATE, dt.date(2024, 2, 29), "2024-02-29"),
        (T.DATE, "0999-01-01", "0999-01-01"),
        (T.DATETIME, "2026-05-01T09:30:00Z", "2026-05-01T09:30:00Z"),
        (T.DATETIME, "2026-05-01T09:30:00+02:00", "2026-05-01T07:30:00Z"),
        (T.DATETIME, "2026-05-01T01:30:00+09:00", "2026-04-30T16:30:00Z"),
        (T.DATETIME, "2026-12-31T20:00:00-05:00", "2027-01-01T01:00:00Z"),
        (T.DATETIME, "2026-05-01T09:30:00.987654Z", "2026-05-01T09:30:00Z"),
        (T.DATETIME, "2026-05-01 09:30+00:00", "2026-05-01T09:30:00Z"),
        (
            T.DATETIME,
            dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=-7))),
            "2026-05-01T16:30:00Z",
        ),
        (T.DATETIME, "0999-06-01T00:00:00Z", "0999-06-01T00:00:00Z"),
        # booleans
        (T.BOOLEAN, True, True),
        (T.BOOLEAN, False, False),
        (T.BOOLEAN, "true", True),
        (T.BOOLEAN, " TRUE ", True),
        (T.BOOLEAN, "False", False),
        # enumerations: the option value itself
        (T.ENUMERATION, "silver", "silver"),
        # multi-enumerations: option order, duplicates dropped, from a list or "a;b"
        (T.MULTI_ENUMERATION, ["bronze", "gold"], ["gold", "bronze"]),
        (T.MULTI_ENUMERATION, "bronze;gold", ["gold", "bronze"]),
        (T.MULTI_ENUMERATION, "silver", ["silver"]),
        (T.MULTI_ENUMERATION, "gold; silver ;", ["gold", "silver"]),
        (T.TEXT, "   ", None),
        (T.MULTI_ENUMERATION, ["gold", "gold"], ["gold"]),
        # users: an id
        (T.USER, 7, 7),
        (T.USER, "7", 7),
        (T.USER, 7.0, 7),
    ],
)
def test_canonical_form(prop_type, raw, expected):
    cleaned = clean(prop_type, raw)
    assert cleaned == expected
    assert type(cleaned) is type(expected)


@pytest.mark.parametrize(
    ("prop_type", "raw", "message"),
    [
        (T.TEXT, 12, "Enter text."),
        (T.TEXT, "x" * 1001, "Enter at most 1000 characters."),
        (T.TEXT, "two\nlines", "Enter a single line of text."),
        (T.TEXT, "carriage\rreturn", "Enter a single line of text."),
        (T.LONG_TEXT, ["a"], "Enter text."),
        (T.LONG_TEXT, "y" * 65_537, "Enter at most 65536 characters."),
        (T.NUMBER, "twelve", "Enter a number."),
        (T.NUMBER, True, "Enter a number."),
        (T.NUMBER, [1], "Enter a number."),
        (T.NUMBER, {"n": 1}, "Enter a number."),
        (T.NUMBER, "1,5", "Enter a number."),
        (T.NUMBER, float("nan"), "Enter a finite number."),
        (T.NUMBER, float("inf"), "Enter a finite number."),
        (T.NUMBER, "Infinity", "Enter a finite number."),
        (T.NUMBER, "NaN", "Enter a finite number."),
        (T.NUMBER, 10**15, "Enter a number below one quadrillion."),
        (T.NUMBER, -(10**15), "Enter a number below one quadrillion."),
        (T.NUMBER, 10**40, "Enter a number below one quadrillion."),
        (T.NUMBER, "1000000000000000", "Enter a number below one quadrillion."),
        (T.NUMBER, "1e15", "Enter a number below one quadrillion."),
        (T.NUMBER, 1e20, "Enter a number below one quadrillion."),
        (T.CURRENCY, "12 EUR", "Enter a number."),
        (T.CURRENCY, "999999999999999.995", "Enter a number below one quadrillion."),
        (T.DATE, "2026-02-30", "Enter a date as YYYY-MM-DD."),
        (T.DATE, "01/05/2026", "Enter a date as YYYY-MM-DD."),
        (T.DATE, "2026-5-1", "Enter a date as YYYY-MM-DD."),
        (T.DATE, "2026-05-01T00:00:00Z", "Enter a date as YYYY-MM-DD."),
        (T.DATE, dt.datetime(2026, 5, 1, tzinfo=dt.UTC), "Enter a date as YYYY-MM-DD."),
        (T.DATE, 20260501, "Enter a date as YYYY-MM-DD."),
        (T.DATETIME, "2026-05-01T09:30:00", "Include a time zone offset, e.g. 2026-05-01T09:30:00+02:00 or …Z."),
        (T.DATETIME, "2026-05-01", "Include a time zone offset, e.g. 2026-05-01T09:30:00+02:00 or …Z."),
        (
            T.DATETIME,
            dt.datetime(2026, 5, 1, 9, 30),  # noqa: DTZ001 — a naive datetime is exactly what is rejected
            "Include a time zone offset, e.g. 2026-05-01T09:30:00+02:00 or …Z.",
        ),
        (T.DATETIME, "yesterday", "Enter a date and time in ISO 8601, e.g. 2026-05-01T09:30:00Z."),
        (T.DATETIME, 1767225600, "Enter a date and time in ISO 8601, e.g. 2026-05-01T09:30:00Z."),
        # before year 1 / after year 9999 once in UTC
        (T.DATETIME, "0001-01-01T00:00:00+01:00", "Enter a date and time in ISO 8601, e.g. 2026-05-01T09:30:00Z."),
        (T.DATETIME, "9999-12-31T23:00:00-05:00", "Enter a date and time in ISO 8601, e.g. 2026-05-01T09:30:00Z."),
        (T.BOOLEAN, "yes", "Enter true or false."),
        (T.BOOLEAN, 1, "Enter true or false."),
        (T.BOOLEAN, "1", "Enter true or false."),
        (T.ENUMERATION, "platinum", "Choose one of: gold, silver, bronze."),
        (T.ENUMERATION, "Gold", "Choose one of: gold, silver, bronze."),
        (T.ENUMERATION, ["gold"], "Choose one of: gold, silver, bronze."),
        (T.MULTI_ENUMERATION, "gold;platinum", "Unknown option platinum; choose from: gold, silver, bronze."),
        (T.MULTI_ENUMERATION, ["gold", "Silver"], "Unknown option Silver; choose from: gold, silver, bronze."),
        (T.MULTI_ENUMERATION, ["gold", 1], "Enter a list of options."),
        (T.MULTI_ENUMERATION, 3, "Enter a list of options."),
        (T.USER, "casey", "Enter a user id."),
        (T.USER, True, "Enter a user id."),
        (T.USER, 3.7, "Enter a user id."),
        (T.USER, "3.0", "Enter a user id."),
        (T.USER, float("inf"), "Enter a user id."),
        (T.USER, 0, "Enter a user id."),
        (T.USER, -4, "Enter a user id."),
        (T.USER, 2**63, "Enter a user id."),
        (T.USER, ["7"], "Enter a user id."),
        ("colour", "red", "Unknown property type colour."),
    ],
)
def test_rejection_message(prop_type, raw, message):
    assert rejection(prop_type, raw) == message


def test_an_enumeration_without_options_says_so():
    assert str(pytest.raises(InvalidValue, clean_value, T.ENUMERATION, "x", options=[]).value) == "Choose one of: —."


class TestUserIds:
    def test_ids_are_checked_against_the_given_directory(self):
        asked = []

        def active(ids):
            asked.append(list(ids))
            return {7}

        assert clean(T.USER, "7", user_ids=active) == 7
        assert rejection(T.USER, 8, user_ids=active) == "No active user has id 8."
        assert asked == [[7], [8]]

    def test_no_check_without_a_directory(self):
        assert clean(T.USER, 123_456) == 123_456

    @pytest.mark.django_db
    def test_the_real_directory_knows_only_active_users(self, csm, viewer):
        from tend.crm.values import active_user_ids
        from tend.directory.models import User

        User.objects.filter(pk=viewer.pk).update(is_active=False)
        assert clean(T.USER, csm.pk, user_ids=active_user_ids) == csm.pk
        assert rejection(T.USER, viewer.pk, user_ids=active_user_ids) == f"No active user has id {viewer.pk}."


class TestDatetimeHelpers:
    def test_parse_returns_aware_utc_without_microseconds(self):
        assert parse_datetime("2026-03-08T01:59:59.999-05:00") == dt.datetime(2026, 3, 8, 6, 59, 59, tzinfo=dt.UTC)

    def test_format_is_fixed_width_even_before_year_1000(self):
        assert format_datetime(dt.datetime(999, 1, 2, 3, 4, 5, 600, tzinfo=dt.UTC)) == "0999-01-02T03:04:05Z"

    def test_format_and_parse_round_trip(self):
        canonical = "0042-07-01T12:00:00Z"
        assert format_datetime(parse_datetime(canonical)) == canonical
