"""The README's Python examples import what they show (users copy them first)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _import_lines() -> list[str]:
    blocks = _BLOCK.findall(README.read_text(encoding="utf-8"))
    return [
        line.strip()
        for block in blocks
        for line in block.splitlines()
        if re.match(r"\s*(from \S+ import |import )", line)
    ]


def test_readme_has_python_examples() -> None:
    # Guards the test below against passing on nothing if the blocks' fence changes.
    assert len(_import_lines()) >= 2


@pytest.mark.parametrize("line", _import_lines())
def test_readme_import_runs(line: str) -> None:
    exec(compile(line, str(README), "exec"), {})
