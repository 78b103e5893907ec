"""Rewrite the "Enforced in" and "Tested in" lines of docs/policy.md from the code.

Run it after moving or adding code that names a rule (`python scripts/policy_where.py`), then read
the diff: tests/test_policy_doc.py fails when a listed file no longer exists or no longer names its
rule. Rules marked "Not enforced yet" are left as they are: say where they are enforced by hand
when you build them.
"""

import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_policy_doc import NOT_ENFORCED, rules_in_code  # noqa: E402

SECTION = re.compile(r"(?m)^(### (R-[A-Z]+-\d+)\b.*\n)")


def listed(label: str, paths: list[str]) -> str:
    text = f"- **{label}:** " + ", ".join(f"`{path}`" for path in paths)
    return (
        textwrap.fill(
            text,
            width=100,
            subsequent_indent="  ",
            break_long_words=False,
            break_on_hyphens=False,
        )
        + "\n"
    )


def main() -> None:
    named = rules_in_code(ROOT)
    doc_path = ROOT / "docs" / "policy.md"
    parts = SECTION.split(doc_path.read_text())
    out = [parts[0]]
    for heading, rule, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=True):
        if NOT_ENFORCED not in body and rule in named:
            files = sorted(named[rule])
            code = [path for path in files if not path.startswith("tests/")]
            tests = [path for path in files if path.startswith("tests/")]
            enforced = r"(?ms)^- \*\*Enforced in:\*\*.*?(?=^- \*\*|^\n|\Z)"
            tested = r"(?ms)^- \*\*Tested in:\*\*.*?(?=^- \*\*|^\n|^#|\Z)"
            body = re.sub(enforced, listed("Enforced in", code), body)
            body = re.sub(tested, listed("Tested in", tests), body)
        out.append(heading + body)
    doc_path.write_text("".join(out))


if __name__ == "__main__":
    main()
