"""The JSON Schemas of the documents themescope writes, generated from their classes.

``python scripts/gen_schemas.py`` writes one file per entry of :data:`SCHEMA_FILES`
into ``docs/schemas/``; a test fails when a committed file differs from what the
classes give.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from themescope.compare_document import JointCompareDocument
from themescope.documents import Record, ThemesDocument
from themescope.study_documents import StudyThemesDocument, StudyVideosDocument

SCHEMA_FILES: dict[str, type[Record]] = {
    "themes.schema.json": ThemesDocument,
    "compare.schema.json": JointCompareDocument,
    "study-themes.schema.json": StudyThemesDocument,
    "study-videos.schema.json": StudyVideosDocument,
}
"""The JSON Schema files in ``docs/schemas/`` and the class each is generated from."""


def schema_text(document_type: type[Record]) -> str:
    """Return the JSON Schema of a document class as the text of its file in ``docs/schemas/``."""
    schema: dict[str, Any] = msgspec.json.schema(document_type)
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
