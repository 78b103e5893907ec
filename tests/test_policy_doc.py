"""docs/policy.md cannot drift from the code.

Every rule ID the code or the tests name is in docs/policy.md, and every rule there is named in
the code unless the page says it is "Not enforced yet". Each file the page lists under
"Enforced in" or "Tested in" exists and names that rule. The checks are plain functions of a
directory, so the last tests run them on a small made-up project to show that they bite.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RULE_ID = re.compile(r"R-[A-Z]+-\d+")
SKIPPED_DIRS = {".venv", "node_modules", "var", "docs", ".git", "__pycache__"}
THIS_FILE = Path(__file__).resolve().relative_to(ROOT).as_posix()
NOT_ENFORCED = "Not enforced yet"
SECTION = re.compile(r"^### (R-[A-Z]+-\d+)\b", re.MULTILINE)
LISTED = re.compile(r"^- \*\*(Enforced in|Tested in):\*\*(.*?)(?=^- \*\*|^#|\Z)", re.M | re.S)


def names(rule: str, text: str) -> bool:
    """Whether `text` names `rule` itself, not a longer ID that starts the same (1 in 10)."""
    return re.search(rf"{re.escape(rule)}(?!\d)", text) is not None


def code_files(root: Path) -> list[Path]:
    """The Python files and the templates, outside the virtualenv, node_modules, var and docs."""
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if SKIPPED_DIRS.intersection(relative.parts) or not path.is_file():
            continue
        if relative.as_posix() == THIS_FILE:
            continue
        if path.suffix == ".py" or (path.suffix == ".html" and relative.parts[0] == "templates"):
            found.append(path)
    return found


def rules_in_code(root: Path) -> dict[str, set[str]]:
    """Each rule ID named in the code or the tests, with the files that name it."""
    rules: dict[str, set[str]] = {}
    for path in code_files(root):
        for rule in RULE_ID.findall(path.read_text(encoding="utf-8", errors="replace")):
            rules.setdefault(rule, set()).add(path.relative_to(root).as_posix())
    return rules


def doc_sections(root: Path) -> dict[str, str]:
    """docs/policy.md cut into one piece of text per rule, keyed by the rule's heading."""
    text = (root / "docs" / "policy.md").read_text(encoding="utf-8")
    headings = list(SECTION.finditer(text))
    sections: dict[str, str] = {}
    for heading, following in zip(headings, [*headings[1:], None], strict=True):
        end = following.start() if following else len(text)
        body = text[heading.end() : end]
        body = re.split(r"^## ", body, flags=re.MULTILINE)[0]  # the next part of the page
        assert heading.group(1) not in sections, f"{heading.group(1)} has two sections"
        sections[heading.group(1)] = body
    return sections


def listed_files(section: str) -> dict[str, list[str]]:
    """The paths a rule's section lists under "Enforced in" and "Tested in"."""
    listed: dict[str, list[str]] = {"Enforced in": [], "Tested in": []}
    for match in LISTED.finditer(section):
        listed[match.group(1)] += re.findall(r"`([^`]+)`", match.group(2))
    return listed


def missing_from_doc(root: Path) -> list[str]:
    sections = doc_sections(root)
    return [
        f"{rule} is named in {', '.join(sorted(files))} but has no section in docs/policy.md"
        for rule, files in sorted(rules_in_code(root).items())
        if rule not in sections
    ]


def named_nowhere(root: Path) -> list[str]:
    in_code = rules_in_code(root)
    return [
        f"{rule} is in docs/policy.md but no code or test names it: name it where it is "
        f'enforced, or mark it "{NOT_ENFORCED}"'
        for rule, section in doc_sections(root).items()
        if rule not in in_code and NOT_ENFORCED not in section
    ]


def stale_not_enforced(root: Path) -> list[str]:
    in_code = rules_in_code(root)
    return [
        f'{rule} is marked "{NOT_ENFORCED}" but {", ".join(sorted(in_code[rule]))} name it: '
        "say where it is enforced and tested instead"
        for rule, section in doc_sections(root).items()
        if rule in in_code and NOT_ENFORCED in section
    ]


def wrong_paths(root: Path) -> list[str]:
    problems = []
    for rule, section in doc_sections(root).items():
        listed = listed_files(section)
        if NOT_ENFORCED not in section:
            for kind in ("Enforced in", "Tested in"):
                if not listed[kind]:
                    problems.append(f'{rule} lists nothing under "{kind}"')
        for kind, paths in listed.items():
            for path in paths:
                target = root / path
                if not target.is_file():
                    problems.append(f'{rule}: "{kind}" {path} does not exist')
                elif not names(rule, target.read_text(encoding="utf-8", errors="replace")):
                    problems.append(f'{rule}: "{kind}" {path} does not name {rule}')
    return problems


def ids_without_a_section(root: Path) -> list[str]:
    text = (root / "docs" / "policy.md").read_text(encoding="utf-8")
    sections = doc_sections(root)
    return sorted(
        f"docs/policy.md mentions {rule} but has no section for it"
        for rule in set(RULE_ID.findall(text))
        if rule not in sections
    )


# The repository's own docs -------------------------------------------------------------------


def test_every_rule_the_code_or_tests_name_has_a_section_in_the_policy_doc():
    assert missing_from_doc(ROOT) == []


def test_every_rule_in_the_policy_doc_is_named_in_the_code_unless_marked_not_enforced_yet():
    assert named_nowhere(ROOT) == []


def test_a_rule_the_code_now_names_is_no_longer_marked_not_enforced_yet():
    assert stale_not_enforced(ROOT) == []


def test_every_file_listed_as_enforcing_or_testing_a_rule_exists_and_names_that_rule():
    assert wrong_paths(ROOT) == []


def test_every_rule_the_policy_doc_mentions_has_its_own_section():
    assert ids_without_a_section(ROOT) == []


def test_the_readme_and_the_docs_never_send_a_reader_outside_the_repository():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    outside = [
        f"{page.relative_to(ROOT)}:{number}: {line.strip()}"
        for page in pages
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
        if "shared/" in line
    ]
    assert outside == []


# The checks themselves, on a made-up project -------------------------------------------------

GOOD_DOC = """# Rules

## Visits

### R-ZZ-1 Visits are made in pairs

Two visitors.

- **Source:** a policy.
- **Enforced in:** `app/services.py`
- **Tested in:** `tests/test_app.py`

### R-ZZ-2 Something planned

Later, with R-ZZ-1.

- **Not enforced yet.** Nothing checks this today.
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "policy.md").write_text(GOOD_DOC)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "services.py").write_text("# R-ZZ-1: pairs\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_app.py").write_text("def test_pairs():  # R-ZZ-1\n    pass\n")
    return tmp_path


def all_problems(root: Path) -> list[str]:
    return [
        *missing_from_doc(root),
        *named_nowhere(root),
        *stale_not_enforced(root),
        *wrong_paths(root),
        *ids_without_a_section(root),
    ]


def test_a_doc_that_matches_the_code_passes(project):
    assert all_problems(project) == []


def test_a_rule_in_a_template_that_the_doc_forgets_is_caught(project):
    (project / "templates").mkdir()
    (project / "templates" / "page.html").write_text("{# R-ZZ-3 #}")
    assert missing_from_doc(project) == [
        "R-ZZ-3 is named in templates/page.html but has no section in docs/policy.md"
    ]


def test_rules_in_the_virtualenv_node_modules_var_and_docs_are_ignored(project):
    for folder in (".venv", "node_modules", "var", "docs/more"):
        (project / folder).mkdir(parents=True)
        (project / folder / "x.py").write_text("# R-ZZ-9\n")
    assert missing_from_doc(project) == []


def test_a_rule_the_code_and_tests_stopped_naming_is_caught(project):
    (project / "app" / "services.py").write_text("# pairs\n")
    (project / "tests" / "test_app.py").write_text("def test_pairs():\n    pass\n")
    assert named_nowhere(project) == [
        "R-ZZ-1 is in docs/policy.md but no code or test names it: name it where it is "
        'enforced, or mark it "Not enforced yet"'
    ]
    assert wrong_paths(project) == [
        'R-ZZ-1: "Enforced in" app/services.py does not name R-ZZ-1',
        'R-ZZ-1: "Tested in" tests/test_app.py does not name R-ZZ-1',
    ]


def test_a_not_enforced_rule_that_the_code_now_names_is_caught(project):
    (project / "app" / "services.py").write_text("# R-ZZ-1 and R-ZZ-2\n")
    assert stale_not_enforced(project) == [
        'R-ZZ-2 is marked "Not enforced yet" but app/services.py name it: say where it is '
        "enforced and tested instead"
    ]


def test_a_listed_file_that_was_moved_is_caught(project):
    (project / "tests" / "test_app.py").rename(project / "tests" / "test_moved.py")
    assert wrong_paths(project) == ['R-ZZ-1: "Tested in" tests/test_app.py does not exist']


def test_a_rule_that_names_a_longer_id_only_does_not_count(project):
    (project / "app" / "services.py").write_text("# R-ZZ-10\n")
    assert 'R-ZZ-1: "Enforced in" app/services.py does not name R-ZZ-1' in wrong_paths(project)
