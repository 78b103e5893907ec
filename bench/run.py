"""Run every benchmark in bench/ (or those named: `bench/run.py pdf web`) and assemble
bench/RESULTS.md, with the machine it ran on, from every script's latest result."""

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
HELPERS = {"run.py", "cpu.py"}  # modules the benchmarks import, not benchmarks
ROOT = BENCH.parent


def machine() -> str:
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split()[1])
        memory = f", {total_kb / 1024 / 1024:.1f} GiB memory"
    cpu = platform.processor() or platform.machine()
    for line in (
        Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    ):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    python = platform.python_version()
    return f"{os.cpu_count()} cores ({cpu}){memory}, {platform.platform()}, Python {python}"


def main() -> int:
    scripts = sorted(p for p in BENCH.glob("*.py") if p.name not in HELPERS)
    # `bench/run.py pdf web` runs only those; RESULTS.md is always assembled from every result.
    chosen = [p for p in scripts if not sys.argv[1:] or p.stem in sys.argv[1:]]
    failed = []
    for script in chosen:
        print(f"== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=ROOT).returncode != 0:
            failed.append(script.name)
    sections = [
        "# Benchmark results",
        "",
        f"Assembled by `bench/run.py` ({'`make bench`' if not sys.argv[1:] else 'some scripts'}) "
        f"on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {machine()}, from each script's latest "
        "result: each section gives when it ran and the machine's load then.",
        "",
    ]
    for script in scripts:
        result = BENCH / "results" / f"{script.stem}.md"
        sections.append(
            result.read_text() if result.exists() else f"## {script.stem}\n\nNo result.\n"
        )
        # A script's other modes write <stem>-<mode>.md (bench/escalation.py --delivery).
        for extra in sorted((BENCH / "results").glob(f"{script.stem}-*.md")):
            sections.append(extra.read_text())
    (BENCH / "RESULTS.md").write_text("\n".join(sections))
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
