"""Issue 14, point 6: the risk assessment form says everything wrong at once, at the top, each
error linking to its field; optional fields never look like errors; the form stays short."""

import re

from django.urls import reverse

from riskassess.models import RiskAssessment
from tests.riskassess.test_pages import _form_data


def _post(client, visit, **overrides):
    response = client.post(
        reverse("riskassess:assessment", args=[visit.pk]), _form_data(visit, **overrides)
    )
    assert response.status_code == 200
    return response.content.decode()


def _summary(page: str) -> str:
    start = page.index('id="form-errors"')
    return page[start : page.index("</div>", start)]


def _invalid_names(page: str) -> set[str]:
    return {
        re.search(r'name="([^"]+)"', tag).group(1)
        for tag in re.findall(r"<(?:textarea|input|select)[^>]*is-invalid[^>]*>", page)
    }


def test_a_rows_missing_controls_come_in_the_same_pass_as_a_missing_answer_r_ra_2_r_ra_4(
    client, signed_in, visit, sam
):
    signed_in(sam)
    page = _post(
        client,
        visit,
        **{"rows-0-controls": [], "rows-0-other_controls": "", "refused_entry_plan": ""},
    )
    summary = _summary(page)
    assert "Choose or write at least one control measure for “Aggressive or violent" in summary
    assert "If you are refused entry: Answer this preparation question." in summary
    assert not RiskAssessment.objects.exists()


def test_each_error_in_the_summary_links_to_its_field(client, signed_in, visit, sam):
    signed_in(sam)
    page = _post(
        client,
        visit,
        **{
            "rows-0-controls": [],
            "rows-1-severity": "",
            "refused_entry_plan": "",
            "child_seen": "",
        },
    )
    links = re.findall(r'<a class="alert-link[^"]*" href="#([^"]+)">', _summary(page))
    assert links == [
        "rows-0-controls",
        "id_rows-1-severity",
        "id_refused_entry_plan",
        "id_child_seen_0",
    ]
    for anchor in links:
        assert f'id="{anchor}"' in page, anchor


def test_an_optional_field_never_gets_a_red_border(client, signed_in, visit, sam):
    signed_in(sam)
    page = _post(
        client,
        visit,
        **{"rows-0-controls": [], "rows-0-other_controls": "", "child_seen_notes": ""},
        expected_present="",
    )
    assert _invalid_names(page) == {"expected_present"}
    assert "child_seen_notes" not in _invalid_names(page)


def test_the_optional_add_a_hazard_row_does_not_mark_severity_required(
    client, signed_in, visit, sam
):
    signed_in(sam)
    page = client.get(reverse("riskassess:assessment", args=[visit.pk])).content.decode()
    required = set(
        re.findall(r'for="id_(rows-\d+-(?:severity|likelihood))" class="[^"]*requiredField', page)
    )
    assert "rows-0-severity" in required and "rows-4-likelihood" in required
    assert "rows-5-severity" not in required and "rows-5-likelihood" not in required


def test_a_hazard_being_added_is_told_everything_it_lacks_at_once_r_ra_2(
    client, signed_in, visit, sam
):
    signed_in(sam)
    page = _post(client, visit, **{"rows-5-harm": "Cuts"})
    summary = _summary(page)
    assert "Name the hazard you are adding." in summary
    assert "Choose what kind of hazard “the hazard you are adding” is." in summary
    assert "the hazard you are adding: Choose a severity of 1 (minor)" in summary
    assert "the hazard you are adding: Choose a likelihood of 1 (remote)" in summary
    assert "Choose or write at least one control measure for “the hazard you are adding”" in summary
    assert not RiskAssessment.objects.exists()


def test_the_left_blank_add_a_hazard_row_is_no_error(client, signed_in, visit, sam):
    signed_in(sam)
    response = client.post(reverse("riskassess:assessment", args=[visit.pk]), _form_data(visit))
    assert response.status_code == 302
    assert RiskAssessment.objects.get(visit=visit).hazard_rows.count() == 5


def test_the_guidance_and_the_matrix_are_folded_away(client, signed_in, visit, sam):
    signed_in(sam)
    page = client.get(reverse("riskassess:assessment", args=[visit.pk])).content.decode()
    assert "<summary>How to fill in the hazards</summary>" in page
    assert re.search(r"<details[^>]*>\s*<summary[^>]*>How a hazard&#x27;s risk level", page) or (
        re.search(r"<details[^>]*>\s*<summary[^>]*>How a hazard's risk level", page)
    )
