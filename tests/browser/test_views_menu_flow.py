"""The "All views" menu with many saved views, in a real Chromium: it opens above the page (not
clipped by the scrolling views bar), filters as one types, and opens a view from the keyboard."""

import re

import pytest
from playwright.sync_api import expect

from tend.directory.services import user_create
from tend.workspace.models import SavedView

pytestmark = pytest.mark.django_db(transaction=True)

NAMES = ["Renewals Q{} {}", "Onboarding cohort {1}", "Expansion {1}", "Quiet accounts {1}"]


@pytest.fixture
def views(db):
    csm = user_create(email="csm@example.com", password="pw-123456789", full_name="Casey CSM", has_service_seat=True)
    other = user_create(email="mia@example.com", password="pw-123456789", full_name="Mia Manager")
    made = {}
    for i in range(24):
        name = NAMES[i % 4].format(i % 4 + 1, i)
        made[name] = SavedView.objects.create(tab="customers", owner=csm, name=name, visibility="private")
    made["Team escalations"] = SavedView.objects.create(
        tab="customers", owner=other, name="Team escalations", visibility="everyone"
    )
    return csm, made


def test_find_and_open_a_view_among_many(new_page, views):
    csm, made = views
    page = new_page(csm)
    page.goto("/customers/")
    page.get_by_test_id("all-views").click()
    menu = page.get_by_test_id("views-menu")
    expect(menu).to_be_visible()
    search = page.get_by_test_id("views-search")
    expect(search).to_be_focused()

    # Not clipped: what the browser shows at the middle of an entry is that entry.
    first = menu.get_by_test_id(f"menu-view-{made['Expansion 10'].pk}")
    box = first.bounding_box()
    assert box["height"] > 10 and box["width"] > 100
    hit = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y)?.closest('[data-testid^=menu-view-]')?.dataset.testid",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert hit == f"menu-view-{made['Expansion 10'].pk}"
    expect(menu.locator("[data-search]:visible")).to_have_count(3 + 25)  # three built-in views too

    # Type part of a name: only the matching views are left, their group headers with them.
    search.fill("onboarding")
    expect(menu.locator("[data-search]:visible")).to_have_count(6)
    expect(page.get_by_test_id("views-group-shared")).to_be_hidden()
    search.fill("escal")
    expect(menu.locator("[data-search]:visible")).to_have_count(1)
    expect(page.get_by_test_id("views-group-shared")).to_be_visible()
    search.fill("nothing like it")
    expect(page.get_by_test_id("views-none")).to_be_visible()

    # Escape closes the menu; reopened, the search starts empty.
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    page.get_by_test_id("all-views").click()
    expect(search).to_have_value("")

    # Keyboard: filter (every word matches), arrow down to the second match, Enter opens it.
    search.press_sequentially("cohort 1")
    matches = ["Onboarding cohort 1", "Onboarding cohort 13", "Onboarding cohort 17", "Onboarding cohort 21"]
    expect(menu.locator("[data-search]:visible .views-menu-name")).to_have_text(matches)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_test_id(f"menu-view-{made['Onboarding cohort 13'].pk}")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"view={made['Onboarding cohort 13'].pk}"))
    expect(page.get_by_test_id(f"view-{made['Onboarding cohort 13'].pk}")).to_have_attribute("aria-current", "page")

    # Enter in the search box opens the first match.
    page.get_by_test_id("all-views").click()
    page.get_by_test_id("views-search").fill("team")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"view={made['Team escalations'].pk}"))
