"""docs/settings.md is generated from the settings' declarations, and kept current."""

from __future__ import annotations

from pathlib import Path

from themescope._cli._reference import settings_reference

SETTINGS_DOC = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def test_committed_settings_reference_is_current() -> None:
    committed = SETTINGS_DOC.read_text(encoding="utf-8") if SETTINGS_DOC.is_file() else None
    assert committed == settings_reference(), (
        "docs/settings.md is stale: run python scripts/gen_settings.py"
    )


def test_reference_shows_each_flag_on_the_commands_that_take_it() -> None:
    # The commands are read from the command line, so a flag one command lacks is not
    # promised there (--frame-height is ingest's only).
    rows = {line.split(" | ")[0]: line for line in settings_reference().splitlines()}
    assert "`--every` (corpus, ingest, summarize)" in rows["| `every_s`"]
    assert "`--frame-height` (ingest) |" in rows["| `frame_height`"]
    assert "`--preset` (summarize, train) |" in rows["| `preset_name`"]
