"""The error summary at the top of a form (the GOV.UK pattern, issue 14): every error of the form
at once, each linking to the field it is about. templates/includes/error_summary.html draws it."""

from dataclasses import dataclass

from django import forms


@dataclass
class SummaryError:
    """One line of the summary: the message, and the id of the field it links to ("" for none)."""

    message: str
    anchor: str = ""


def field_anchor(bound: forms.BoundField) -> str:
    """The id a link to this field should target: the first radio button of a group."""
    if isinstance(bound.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return f"{bound.auto_id}_0"
    return bound.auto_id


def form_error_summary(form: forms.Form, *, prefix_labels: bool = True) -> list[SummaryError]:
    """The form's errors in the order of its fields, non-field errors first."""
    summary = [SummaryError(str(error)) for error in form.non_field_errors()]
    for bound in form:
        for error in bound.errors:
            text = f"{bound.label}: {error}" if prefix_labels and bound.label else str(error)
            summary.append(SummaryError(text, field_anchor(bound)))
    return summary
