"""Mentions in notes: full names with spaces and in Japanese, email local parts, never the "@"
of an email address; highlighted (escaped) for the timeline."""

import pytest

from tend.directory.services import user_create
from tend.engagement.mentions import find_mentions, highlight_mentions, mentioned_user_ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    return {
        "anna": user_create(email="anna.schmidt@example.de", full_name="Anna Schmidt"),
        "ann": user_create(email="ann@example.com", full_name="Ann"),
        "yuki": user_create(email="yuki@example.jp", full_name="田中 優希"),
        "ken": user_create(email="ken@example.jp", full_name="佐藤健"),
    }


def ids(people, *names):
    return [people[n].pk for n in names]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks @Anna Schmidt!", ["anna"]),
        ("@anna schmidt, see below", ["anna"]),  # any case
        ("ask @Ann about it", ["ann"]),  # the longest name that ends there: not "Anna Schmidt"
        ("@田中 優希 お願いします", ["yuki"]),
        ("@佐藤健さん、確認してください", ["ken"]),  # no space after a Japanese name
        ("cc @anna.schmidt.", ["anna"]),  # the local part; the sentence's full stop is not part of it
        ("cc @yuki and @ken", ["yuki", "ken"]),
        ("mail anna.schmidt@example.de or ann@example.com", []),  # inside an address
        ("@annabel is someone else", []),
        ("@Ann and @Ann again", ["ann"]),
        ("no mention here", []),
    ],
)
def test_who_is_mentioned(people, text, expected):
    assert mentioned_user_ids(text) == ids(people, *expected)


def test_inactive_users_are_not_mentioned(people):
    people["ann"].is_active = False
    people["ann"].save()
    assert mentioned_user_ids("@Ann") == []


def test_the_mention_spans_and_the_highlight(people):
    text = "<b>@Anna Schmidt</b> & @yuki"
    assert [(m.start, m.end) for m in find_mentions(text)] == [(3, 16), (23, 28)]
    assert highlight_mentions(text) == (
        '&lt;b&gt;<mark class="mention" data-testid="mention">@Anna Schmidt</mark>&lt;/b&gt; &amp; '
        '<mark class="mention" data-testid="mention">@yuki</mark>'
    )


def test_no_at_sign_reads_no_users(people, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert mentioned_user_ids("plain text") == []
