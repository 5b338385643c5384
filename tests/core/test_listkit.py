"""tend.core.listkit: the table state a query string asks for, its links, capped paging and which
template an htmx request gets."""

from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.db import connection
from django.http import HttpResponse, QueryDict
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django_htmx.middleware import HtmxMiddleware
from model_bakery import baker

from tend.core.errors import NotFound
from tend.core.listkit import (
    INVALID_FILTERS,
    MAX_SEARCH,
    CappedPaginator,
    TableState,
    headers,
    list_template,
    page_of,
)
from tend.crm.models import ObjectType, Record

BUILTINS = ("owned", "assigned30")
DEFAULT_COLUMNS = ("name", "csm", "mrr")
SAVED_FILTERS = {"filterGroups": [{"filters": [{"propertyName": "cs_stage", "operator": "EQ", "value": "at_risk"}]}]}


def saved_view(**overrides):
    values = {
        "pk": 7,
        "filters": SAVED_FILTERS,
        "sorts": [{"propertyName": "mrr", "direction": "DESCENDING"}],
        "columns": ["name", "country"],
    }
    return SimpleNamespace(**{**values, **overrides})


def no_saved_view(key):
    raise AssertionError(f"a built-in view must not load a saved view ({key!r})")


def parse(query: str, *, load_saved=no_saved_view, **kwargs) -> TableState:
    return TableState.parse(
        QueryDict(query),
        default_view="owned",
        builtin_views=BUILTINS,
        load_saved=load_saved,
        default_columns=DEFAULT_COLUMNS,
        **kwargs,
    )


# ---- parse ---------------------------------------------------------------------------------------


def test_no_parameters_give_the_default_builtin_view_with_its_default_columns():
    state = parse("")
    assert (state.view_key, state.saved, state.filters, state.sorts) == ("owned", None, {}, [])
    assert state.columns == ["name", "csm", "mrr"]
    assert (state.q, state.modified) == ("", False)


def test_a_builtin_view_changed_by_the_url_is_not_modified():
    # `modified` offers "Save view": there is no saved view to save into.
    state = parse("view=assigned30&sort=mrr&dir=desc&columns=name,mrr&filters=%7B%7D")
    assert state.view_key == "assigned30"
    assert state.sorts == [{"propertyName": "mrr", "direction": "DESCENDING"}]
    assert state.columns == ["name", "mrr"]
    assert state.modified is False


def test_a_saved_view_brings_its_filters_sorts_and_columns():
    loaded = []

    def load(key):
        loaded.append(key)
        return saved_view()

    state = parse("view=7", load_saved=load)
    assert loaded == ["7"]
    assert state.view_key == "7"
    assert state.saved.pk == 7
    assert state.filters == SAVED_FILTERS
    assert state.sorts == [{"propertyName": "mrr", "direction": "DESCENDING"}]
    assert state.columns == ["name", "country"]
    assert state.modified is False


def test_a_saved_view_without_columns_shows_the_default_columns():
    state = parse("view=7", load_saved=lambda key: saved_view(columns=None, filters=None, sorts=None))
    assert (state.filters, state.sorts, state.columns) == ({}, [], ["name", "csm", "mrr"])


def test_the_state_does_not_change_the_saved_view_it_came_from():
    view = saved_view(filters={"filterGroups": [], "query": "kept"})
    state = parse("view=7", load_saved=lambda key: view)
    assert state.filters == {"filterGroups": []}  # the search lives in `q`, not in the filters
    assert view.filters == {"filterGroups": [], "query": "kept"}


@pytest.mark.parametrize(
    ("query", "changed"),
    [
        ("view=7&sort=name", "sort"),
        ("view=7&columns=name", "columns"),
        ("view=7&filters=%7B%7D", "filters"),
        ("view=7&filters=", "filters"),
    ],
)
def test_a_saved_view_is_modified_when_the_url_changes_its_table(query, changed):
    state = parse(query, load_saved=lambda key: saved_view())
    assert state.modified is True, changed


def test_a_search_or_a_page_does_not_modify_a_saved_view():
    state = parse("view=7&q=acme&page=2", load_saved=lambda key: saved_view())
    assert state.modified is False


def test_a_view_that_cannot_be_loaded_raises_what_the_loader_raises():
    def load(key):
        raise NotFound("no such view")

    with pytest.raises(NotFound):
        parse("view=99", load_saved=load)


def test_filters_that_are_not_json_become_the_invalid_sentinel():
    assert parse("filters=not-json").filters == {"filterGroups": "invalid"}
    assert parse("filters=%5B1%2C2%5D").filters == {"filterGroups": "invalid"}  # JSON, but a list
    assert parse("filters=%22text%22").filters == {"filterGroups": "invalid"}


def test_the_invalid_sentinel_is_a_copy():
    state = parse("filters=not-json")
    state.filters["filterGroups"] = "changed"
    assert INVALID_FILTERS == {"filterGroups": "invalid"}


def test_empty_filters_clear_the_saved_views_filters():
    assert parse("filters=").filters == {}
    assert parse("view=7&filters=", load_saved=lambda key: saved_view()).filters == {}


def test_filters_from_the_url_replace_the_saved_ones_without_their_query():
    raw = '{"filterGroups": [{"filters": [{"propertyName": "mrr", "operator": "GT", "value": 5}]}], "query": "x"}'
    state = parse("view=7&filters=" + quote(raw), load_saved=lambda key: saved_view())
    assert state.filters == {"filterGroups": [{"filters": [{"propertyName": "mrr", "operator": "GT", "value": 5}]}]}


def test_columns_are_split_on_commas_and_empty_names_dropped():
    assert parse("columns=name,,mrr,").columns == ["name", "mrr"]


def test_sort_direction_is_ascending_unless_desc():
    assert parse("sort=name").sorts == [{"propertyName": "name", "direction": "ASCENDING"}]
    assert parse("sort=name&dir=sideways").sorts == [{"propertyName": "name", "direction": "ASCENDING"}]
    assert parse("sort=name&dir=desc").sorts == [{"propertyName": "name", "direction": "DESCENDING"}]
    state = parse("sort=name&dir=desc")
    assert (state.sort_name, state.sort_dir) == ("name", "desc")
    assert (parse("").sort_name, parse("").sort_dir) == (None, "asc")


def test_the_search_is_stripped_and_cut_to_200_characters():
    assert MAX_SEARCH == 200
    assert parse("q=++acme++").q == "acme"
    assert parse("q=" + "+" * 3 + "a" * 250).q == "a" * 200
    state = parse("q=acme&filters=" + quote('{"filterGroups": []}'))
    assert state.search_filters == {"filterGroups": [], "query": "acme"}
    assert state.body() == {"filterGroups": [], "query": "acme", "sorts": []}
    assert parse("").search_filters == {}


# ---- links ---------------------------------------------------------------------------------------

FULL = (
    "object=deals&layout=table&view=5&q=acme&filters=%7B%7D&columns=name,mrr&sort=mrr&dir=asc&page=3&created=7&junk=1"
)


def board_state(query: str = FULL) -> TableState:
    return parse(query, load_saved=lambda key: saved_view(pk=5), sticky=("object", "layout"), quick=("created",))


def test_the_query_string_keeps_the_state_but_not_the_page_nor_unknown_parameters():
    assert board_state().query_string() == (
        "object=deals&layout=table&view=5&q=acme&filters=%7B%7D&columns=name%2Cmrr&sort=mrr&dir=asc&created=7"
    )


def test_query_string_overrides_add_replace_and_drop():
    state = board_state()
    assert state.query_string(page=2).endswith("&created=7&page=2")
    assert state.query_string(q="globex") == (
        "object=deals&layout=table&view=5&q=globex&filters=%7B%7D&columns=name%2Cmrr&sort=mrr&dir=asc&created=7"
    )
    assert state.query_string(q=None, created="", sort=None, dir=None) == (
        "object=deals&layout=table&view=5&filters=%7B%7D&columns=name%2Cmrr"
    )


def test_a_view_link_keeps_only_the_sticky_parameters():
    assert board_state().view_link(9) == "object=deals&layout=table&view=9"
    assert parse("q=acme&sort=name&filters=%7B%7D&created=7").view_link("assigned30") == "view=assigned30"


def test_a_sort_link_sorts_ascending_then_toggles_and_goes_back_to_the_first_page():
    state = board_state()  # sorted by mrr ascending, on page 3
    assert state.sort_link("mrr") == (
        "object=deals&layout=table&view=5&q=acme&filters=%7B%7D&columns=name%2Cmrr&sort=mrr&dir=desc&created=7"
    )
    assert state.sort_link("name") == (
        "object=deals&layout=table&view=5&q=acme&filters=%7B%7D&columns=name%2Cmrr&sort=name&dir=asc&created=7"
    )
    assert parse("sort=mrr&dir=desc").sort_link("mrr") == "view=owned&sort=mrr&dir=asc"
    assert parse("").sort_link("name") == "view=owned&sort=name&dir=asc"


def test_a_saved_views_own_sort_toggles_too():
    state = parse("view=7", load_saved=lambda key: saved_view())  # the view sorts by mrr descending
    assert state.sort_link("mrr") == "view=7&sort=mrr&dir=asc"


def test_a_page_link_is_the_state_with_the_page():
    # Links always name their view, the default one too.
    assert parse("q=acme&page=3").page_link(4) == "view=owned&q=acme&page=4"
    assert parse("").page_link(2) == "view=owned&page=2"
    assert parse("view=assigned30&page=3").page_link(1) == "view=assigned30&page=1"


def test_headers_carry_sort_links_and_the_current_direction():
    state = parse("sort=mrr&dir=desc")
    name, mrr, notes = headers(
        state, [("name", "Name", True, False), ("mrr", "MRR", True, True), ("notes", "Notes", False, False)]
    )
    assert (name.link, name.sorted_dir, name.numeric) == ("view=owned&sort=name&dir=asc", "", False)
    assert (mrr.link, mrr.sorted_dir, mrr.numeric) == ("view=owned&sort=mrr&dir=asc", "desc", True)
    assert (notes.link, notes.sortable, notes.sorted_dir) == ("", False, "")


def test_hidden_fields_of_the_toolbar_carry_the_table():
    assert board_state().hidden_fields(with_table=True) == [
        ("object", "deals"),
        ("layout", "table"),
        ("view", "5"),
        ("filters", "{}"),
        ("columns", "name,mrr"),
        ("sort", "mrr"),
        ("dir", "asc"),
    ]


def test_hidden_fields_of_the_dialogs_carry_the_search_and_quick_filters():
    assert board_state().hidden_fields(with_table=False, with_quick=True) == [
        ("object", "deals"),
        ("layout", "table"),
        ("view", "5"),
        ("q", "acme"),
        ("created", "7"),
        ("sort", "mrr"),
        ("dir", "asc"),
    ]


def test_hidden_fields_name_the_default_view_keep_empty_filters_and_default_the_direction():
    assert parse("").hidden_fields(with_table=True) == [("view", "owned")]
    assert parse("filters=&sort=name").hidden_fields(with_table=True) == [
        ("view", "owned"),
        ("filters", ""),
        ("sort", "name"),
        ("dir", "asc"),
    ]


# ---- paging --------------------------------------------------------------------------------------


@pytest.fixture
def five_records(db):
    companies = ObjectType.objects.get(name="companies")
    baker.make(Record, object_type=companies, name=iter(f"Company {i}" for i in range(5)), _quantity=5)
    return Record.objects.filter(object_type=companies, name__startswith="Company ").order_by("name")


def test_past_the_cap_the_count_stops_at_cap_plus_one(five_records):
    paginator = CappedPaginator(five_records, 2, cap=3)
    with CaptureQueriesContext(connection) as ctx:
        assert paginator.count == 4
    assert (paginator.capped, paginator.shown_count, paginator.num_pages) == (True, 3, 2)
    assert len(ctx.captured_queries) == 1
    assert "LIMIT 4" in ctx.captured_queries[0]["sql"]
    assert "ORDER BY" not in ctx.captured_queries[0]["sql"]


def test_at_or_under_the_cap_the_count_is_exact(five_records):
    at_cap = CappedPaginator(five_records, 2, cap=5)
    assert (at_cap.count, at_cap.capped, at_cap.shown_count, at_cap.num_pages) == (5, False, 5, 3)
    under = CappedPaginator(five_records, 25)
    assert (under.count, under.capped, under.shown_count, under.num_pages) == (5, False, 5, 1)


def test_a_list_is_capped_the_same_way():
    paginator = CappedPaginator(list(range(10)), 3, cap=4)
    assert (paginator.count, paginator.capped, paginator.shown_count) == (5, True, 4)


def test_page_of_gives_the_page_asked_for_and_the_last_one_past_the_end(five_records):
    page = page_of(five_records, QueryDict("page=2"), per_page=2)
    assert [r.name for r in page.object_list] == ["Company 2", "Company 3"]
    last = page_of(five_records, QueryDict("page=99"), per_page=2)
    assert (last.number, [r.name for r in last.object_list]) == (3, ["Company 4"])
    first = page_of(five_records, QueryDict("page=x"), per_page=2)
    assert first.number == 1


# ---- which template an htmx request gets ------------------------------------------------------


def htmx_request(**headers):
    request = RequestFactory().get("/customers/", **headers)
    HtmxMiddleware(lambda r: HttpResponse())(request)
    return request


def test_an_htmx_request_into_the_list_gets_the_list_fragment():
    request = htmx_request(HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list")
    assert list_template(request, "x.html") == "x.html#list"


def test_a_history_restore_gets_the_whole_page():
    request = htmx_request(HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert list_template(request, "x.html") == "x.html"
    # even if it names the list as its target
    request = htmx_request(HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert list_template(request, "x.html") == "x.html"


def test_a_plain_request_or_an_htmx_request_elsewhere_gets_the_whole_page():
    assert list_template(htmx_request(), "x.html") == "x.html"
    assert list_template(htmx_request(HTTP_HX_REQUEST="true", HTTP_HX_TARGET="side-panel-body"), "x.html") == "x.html"
    assert list_template(RequestFactory().get("/customers/"), "x.html") == "x.html"  # no middleware
