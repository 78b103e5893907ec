"""R-RA-2 and R-RA-3: the 3×3 matrix, all nine cells, and the overall risk."""

import pytest

from riskassess.matrix import overall_risk, risk_level


@pytest.mark.parametrize(
    ("severity", "likelihood", "level"),
    [
        # severity 1 minor
        (1, 1, "low"),
        (1, 2, "low"),
        (1, 3, "medium"),
        # severity 2 serious
        (2, 1, "low"),
        (2, 2, "medium"),
        (2, 3, "high"),
        # severity 3 major
        (3, 1, "low"),
        (3, 2, "high"),
        (3, 3, "high"),
    ],
)
def test_each_cell_of_the_3x3_matrix_gives_its_risk_level(severity, likelihood, level):
    # R-RA-2
    assert risk_level(severity=severity, likelihood=likelihood) == level


def test_the_matrix_reproduces_001s_own_ratings():
    # R-RA-2: 001 rates "Major injury may occur" × "Remote possibility" as low.
    assert risk_level(severity=3, likelihood=1) == "low"


@pytest.mark.parametrize(("severity", "likelihood"), [(0, 1), (4, 1), (1, 0), (2, 4), (-1, 2)])
def test_a_severity_or_likelihood_outside_the_scale_has_no_level(severity, likelihood):
    # R-RA-2
    with pytest.raises(ValueError, match="1, 2 or 3"):
        risk_level(severity=severity, likelihood=likelihood)


def test_the_overall_risk_is_the_highest_row():
    # R-RA-3
    assert overall_risk(["low", "low"]) == "low"
    assert overall_risk(["low", "medium", "low"]) == "medium"
    assert overall_risk(["medium", "high", "low"]) == "high"
    with pytest.raises(ValueError):
        overall_risk([])
