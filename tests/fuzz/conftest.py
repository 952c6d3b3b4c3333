"""The fuzzing layer: its table is printed at the end and kept in test-output/fuzz.json."""

from pathlib import Path

from fuzz_harness import LONG, TALLIES, report

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "fuzz.json"


def pytest_terminal_summary(terminalreporter):
    if TALLIES:
        terminalreporter.section("fuzzing" + (" (long profile)" if LONG else " (quick profile)"))
        terminalreporter.write_line(report(OUTPUT))
