"""What the audit trail asks of the apps above it (docs/architecture.md).

`objects_described`: the audit search page names what each event is about in plain words
("Risk assessment for Amy Brown's visit on 03/12/2026"). Sent once per page with
`wanted={"app_label.model": {object ids as text}}`; each receiver answers for the models it owns
with `{(object_type, object_id): audit.describe.Described}`, in a fixed number of queries.
"""

from django.dispatch import Signal

objects_described = Signal()
