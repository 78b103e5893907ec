"""The numbered rules of docs/policy.md are named by their IDs in code, tests and the policy;
a user never sees an ID (issue 14, docs/style.md). This reads every user-facing text the code
holds: each model field's label and help text, every string literal outside docstrings and
comments of the apps (form labels, help texts and error messages included) and the templates."""

import ast
import re
from pathlib import Path

from django.apps import apps

RULE_ID = re.compile(r"R-[A-Z]+-\d+")
ROOT = Path(__file__).resolve().parents[1]
APPS = [
    "core",
    "schools",
    "audit",
    "sso",
    "mis",
    "visits",
    "contacts",
    "riskassess",
    "tracking",
    "records",
    "transfers",
    "insights",
    "config",
]


def test_no_model_field_label_or_help_text_shows_a_rule_id():
    shown = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if RULE_ID.search(str(getattr(field, "help_text", "")))
        or RULE_ID.search(str(getattr(field, "verbose_name", "")))
    ]
    assert shown == []


def _docstrings(tree) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            found.add(id(node.value))
    return found


def test_no_message_in_the_code_shows_a_rule_id():
    shown = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            docstrings = _docstrings(tree)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in docstrings
                    and RULE_ID.search(node.value)
                ):
                    shown.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert shown == []


def test_no_template_shows_a_rule_id_outside_comments():
    shown = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", path.read_text(), flags=re.S)
        text = re.sub(r"{#.*?#}", "", text, flags=re.S)
        text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
        if RULE_ID.search(text):
            shown.append(str(path.relative_to(ROOT)))
    assert shown == []
