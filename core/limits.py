"""How long free text may be (issue 19: a 972,900-character comment once saved, and its PDF took
14.5 s to render inside the request).

Every free-text field of Homeward's models has a max_length from here: forms refuse longer text
with a message naming the field and its limit (and the page shows a character counter,
static/js/counter.js); a model save refuses it too (config.apps.refuse_overlong_text), for any
write that does not come through a form. PDFs stay quick because no field is longer than this
and a PDF combines a bounded amount of text (records.pdf.PDF_TEXT_BUDGET).
"""

import copy

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator

LONG_TEXT = 10_000  # a narrative: what the child said, how the home presented, a concern
NOTE_TEXT = 2_000  # a note, a reason, conditions
MESSAGE_TEXT = 50_000  # an email or text message Homeward writes itself (not typed by a person)

# Django's own default, stated: a request body larger than this is refused (a calm 413 page,
# config.views.bad_request) before any form reads it. Large enough for the longest form (a record
# of a household of children, every field full, even in four-byte characters).
REQUEST_BODY_LIMIT = 2_621_440


class NamedMaxLengthValidator(MaxLengthValidator):
    """Refuses text longer than `limit_value`, saying which field, its limit and the length."""

    def __init__(self, limit_value: int, *, label: str):
        super().__init__(limit_value)
        self.label = label

    def __call__(self, value):
        if len(value) > self.limit_value:
            raise ValidationError(
                f"{self.label} can be at most {self.limit_value:,} characters; this has "
                f"{len(value):,}. Shorten it and save again.",
                code="max_length",
            )


class NamedLengthLimits:
    """A form mixin: a text that is too long is refused with a message naming the field and its
    limit (Django's default names neither)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.name_length_limits()

    def name_length_limits(self) -> None:
        """Call again after adding fields in __init__. Each text box also gets its `maxlength`
        (the character counter reads it), on its own copy of the widget."""
        for name, field in self.fields.items():
            limit = getattr(field, "max_length", None)
            if not isinstance(field, forms.CharField) or limit is None:
                continue
            label = str(field.label or name.replace("_", " ").capitalize())
            field.validators = [
                NamedMaxLengthValidator(limit, label=label)
                if isinstance(validator, MaxLengthValidator)
                else validator
                for validator in field.validators
            ]
            if isinstance(field.widget, forms.Textarea):
                field.widget = copy.copy(field.widget)
                field.widget.attrs = {**field.widget.attrs, "maxlength": str(limit)}
