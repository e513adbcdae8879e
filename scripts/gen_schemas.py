"""Write the JSON Schema of every document into docs/schemas/.

One file per entry of themescope.schemas.SCHEMA_FILES: themes.json, compare.json and
a study's themes.json and videos.json. The schemas are generated from the classes in
themescope.documents; never edit the files by hand. tests/test_documents.py fails when
they are out of date:

    python scripts/gen_schemas.py
"""

from __future__ import annotations

from pathlib import Path

from themescope.schemas import SCHEMA_FILES, schema_text

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "docs" / "schemas"


def main() -> None:
    """Write every schema file and say which ones changed."""
    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    for name, document_type in SCHEMA_FILES.items():
        path = SCHEMA_DIR / name
        text = schema_text(document_type)
        old = path.read_text(encoding="utf-8") if path.is_file() else None
        path.write_text(text, encoding="utf-8")
        print(f"{path}: {'unchanged' if old == text else 'written'}")


if __name__ == "__main__":
    main()
