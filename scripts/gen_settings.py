"""Write docs/settings.md, the settings reference, from the settings' declarations.

Never edit the file by hand. tests/test_docs.py fails when it is out of date:

    python scripts/gen_settings.py
"""

from __future__ import annotations

from pathlib import Path

from themescope._cli._reference import settings_reference

SETTINGS_DOC = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def main() -> None:
    """Write the reference and say whether it changed."""
    text = settings_reference()
    old = SETTINGS_DOC.read_text(encoding="utf-8") if SETTINGS_DOC.is_file() else None
    SETTINGS_DOC.write_text(text, encoding="utf-8")
    print(f"{SETTINGS_DOC}: {'unchanged' if old == text else 'written'}")


if __name__ == "__main__":
    main()
