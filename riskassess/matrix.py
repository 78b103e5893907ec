"""The 3×3 risk matrix (R-RA-2) and the overall risk of an assessment (R-RA-3)."""

from collections.abc import Iterable

from .models import Likelihood, RiskLevel, Severity

_ORDER = {RiskLevel.LOW: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2}


def risk_level(*, severity: int, likelihood: int) -> RiskLevel:
    """R-RA-2: the risk level of a hazard, severity × likelihood on a 3×3 matrix.

    A remote possibility is low whatever the severity, as 001's own assessment rates "Major
    injury may occur" × "Remote possibility" (aggressive adults, dogs) as low.
    """
    table = {
        Severity.MINOR: {
            Likelihood.REMOTE: RiskLevel.LOW,
            Likelihood.POSSIBLE: RiskLevel.LOW,
            Likelihood.LIKELY: RiskLevel.MEDIUM,
        },
        Severity.SERIOUS: {
            Likelihood.REMOTE: RiskLevel.LOW,
            Likelihood.POSSIBLE: RiskLevel.MEDIUM,
            Likelihood.LIKELY: RiskLevel.HIGH,
        },
        Severity.MAJOR: {
            Likelihood.REMOTE: RiskLevel.LOW,
            Likelihood.POSSIBLE: RiskLevel.HIGH,
            Likelihood.LIKELY: RiskLevel.HIGH,
        },
    }
    try:
        return table[Severity(severity)][Likelihood(likelihood)]
    except ValueError as error:
        raise ValueError(
            f"Severity and likelihood are 1, 2 or 3 (got {severity} and {likelihood})."
        ) from error


def overall_risk(levels: Iterable[str]) -> RiskLevel:
    """R-RA-3: the visit's overall risk is the highest row level."""
    levels = [RiskLevel(level) for level in levels]
    if not levels:
        raise ValueError("An assessment without hazard rows has no overall risk.")
    return max(levels, key=_ORDER.__getitem__)


def matrix_rows() -> list[tuple[Severity, list[RiskLevel]]]:
    """The whole matrix, for the legend on the assessment page."""
    return [
        (severity, [risk_level(severity=severity, likelihood=lk) for lk in Likelihood])
        for severity in Severity
    ]
