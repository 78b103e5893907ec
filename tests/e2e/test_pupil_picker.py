"""Issue 14, point 7: the request form's pupil picker is searchable in Chromium (the WAI-ARIA
combobox of static/js/combobox.js, no CDN), by keyboard and by pointer, and choosing a pupil
still offers their siblings; axe stays clean with the list open."""

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, axe_violations, screenshot

pytestmark = pytest.mark.e2e


def test_typing_part_of_a_name_selects_the_pupil_and_offers_the_siblings(person):
    page = person("sam")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/visits/new/")
    box = page.get_by_role("combobox", name="Pupil")
    assert box.is_visible()
    box.fill("gree")  # Isla and Jacob Green
    options = page.get_by_role("listbox").get_by_role("option")
    assert options.count() == 2
    assert axe_violations(page) == []
    screenshot(page, "pupil-picker-open-desktop")
    box.fill("jacob gr")
    assert options.count() == 1
    box.press("Enter")
    assert page.locator("select#id_pupil").input_value() != ""
    assert box.input_value().startswith("Green, Jacob")
    # The select's change reached htmx: the sibling is offered.
    expect(page.get_by_label("Isla Green", exact=False)).to_be_visible()
    page.set_viewport_size(PHONE["viewport"])
    box.fill("mur")
    page.get_by_role("option", name="Murphy, Sofia", exact=False).click()
    assert box.input_value().startswith("Murphy, Sofia")
    expect(page.get_by_label("Reuben Murphy", exact=False)).to_be_visible()
    screenshot(page, "pupil-picker-chosen-phone")
    assert axe_violations(page) == []
