"""The README's Python examples import what they show, and its defaults are the declared ones."""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from themescope._cli._reference import STAGE_CONFIGS
from themescope.corpus import effects
from themescope.corpus.config import StudyConfig
from themescope.corpus.study import STUDY_DEFAULTS
from themescope.devices import DEVICES
from themescope.media.config import IngestConfig
from themescope.model.config import TrainConfig
from themescope.pipeline import Summarizer
from themescope.tables import LIST_SEPARATOR
from themescope.themes.config import ThemesConfig
from themescope.themes.embedders import E5_NAME

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


def _readme_text() -> str:
    # Lines are rewrapped freely; a claim is found whatever the line breaks.
    return " ".join(README.read_text(encoding="utf-8").split())


INGEST, TRAIN, THEMES = IngestConfig(), TrainConfig(), ThemesConfig()
PAPER = TrainConfig.preset("paper")

README_CLAIMS: list[tuple[str, Any, Any]] = [
    # (what the README says, the value it states, the value declared)
    ("It samples a frame every two seconds", 2.0, INGEST.every_s),
    ("[--every 2]", 2.0, INGEST.every_s),
    ("One frame every `--every` seconds (2 s, as in the paper)", 2.0, INGEST.every_s),
    ("into **three to five explained themes**", (3, 5), THEMES.k_range),
    ("[--k K | --k-range 3-5]", (3, 5), THEMES.k_range),
    ("describes every theme with ten phrases", 10, THEMES.n_phrases),
    (
        "The default phrase embedder is multilingual-e5-small",
        E5_NAME,
        E5_NAME if THEMES.embedder is None else THEMES.embedder,
    ),
    ("for an English run by default (`--word-vectors auto`)", "auto", TRAIN.word_vectors),
    ("`--ocr auto` (default)", "auto", INGEST.ocr),
    ("`window` (default): each frame takes", "window", INGEST.align),
    ("as JPEG (360 px high by default)", 360, INGEST.frame_height),
    ("the `fast` default is our design", "fast", TRAIN.preset_name),
    ('preset = "fast" # or "paper"', "fast", TRAIN.preset_name),
    (
        "With `--device auto` (the default)",
        "auto",
        inspect.signature(Summarizer).parameters["device"].default,
    ),
    ("so `auto` keeps scikit-learn", "auto", THEMES.cluster_backend),
    ("`--stability N` times (10 by default", 10, THEMES.stability),
    ("Every non-English phrase and label carries an English `gloss`", "en", THEMES.gloss_language),
    # The backends table: part | default | alternatives
    ("| captioner | none |", "none", THEMES.captioner),
    ("| tagger | extractive (", "extractive", THEMES.tagger),
    ("| speech recognition | none (", None, INGEST.asr_model),
    # A study
    (
        "`local` (default, a process pool",
        "local",
        StudyConfig().executor,
    ),
    ("`max_train_frames` frames (2,000 by default)", 2000, TRAIN.max_train_frames),
    (
        "(`--word-vectors multilingual`, the study's default",
        "multilingual",
        STUDY_DEFAULTS["train"]["word_vectors"],
    ),
    ("(k chosen in 4–12 by default", (4, 12), STUDY_DEFAULTS["themes"]["k_range"]),
    (
        "by the span of the dates (up to 14 days, up to 120, longer)",
        (14, 120),
        (effects.DAY_BINS_UP_TO_DAYS, effects.WEEK_BINS_UP_TO_DAYS),
    ),
    ("with fewer than ten videos beyond the terms", 10, effects.MIN_RESIDUAL_VIDEOS),
    ("lists joined by ` | `", " | ", LIST_SEPARATOR),
    # The paper preset
    ("3×120×200 input", (120, 200), (PAPER.image_height, PAPER.image_width)),
    ("three [3×3 conv 32", (32, 32, 32), PAPER.conv_channels),
    ("hidden size 512", 512, PAPER.rnn_hidden),
    ("dense 16,096 → 4,000", 4000, PAPER.dense_units),
    ("(latent 1,000)", 1000, PAPER.latent_dim),
    ("λ = 3, no KL term (β = 0)", (3.0, 0.0), (PAPER.text_weight, PAPER.kl_weight)),
    (
        "Adam 1e-4, batch 16, 500 epochs",
        (1e-4, 16, 500),
        (PAPER.lr, PAPER.batch_size, PAPER.epochs),
    ),
    ("seed 3407 and no early stopping", (3407, False), (PAPER.seed, PAPER.early_stopping)),
]


@pytest.mark.parametrize(("phrase", "stated", "declared"), README_CLAIMS)
def test_readme_states_the_declared_default(phrase: str, stated: Any, declared: Any) -> None:
    assert phrase in _readme_text(), f"README no longer says {phrase!r}: update README_CLAIMS"
    assert stated == declared, f"README says {phrase!r}, but the declared value is {declared!r}"


def _allowed_by_flag() -> dict[str, set[str]]:
    allowed = {"--device": set(DEVICES)}
    for config in STAGE_CONFIGS:
        for declaration in config.declarations().values():
            if declaration.flag and declaration.choices:
                allowed[declaration.flag] = {str(choice) for choice in declaration.choices}
    return allowed


def test_readme_lists_only_declared_choices() -> None:
    # `--lang auto|en|zh` and the like: every value the README offers must be accepted.
    listed = re.findall(r"(--[a-z-]+)[ =]([a-z0-9-]+(?:\|[a-z0-9-]+)+)", _readme_text())
    allowed = _allowed_by_flag()
    assert len(listed) >= 8
    for flag, values in listed:
        assert set(values.split("|")) <= allowed[flag], (
            f"README offers {flag} {values}, but {flag} takes {'|'.join(sorted(allowed[flag]))}"
        )


def test_readme_config_example_holds_the_defaults() -> None:
    # The example is read as the defaults; a changed default would make it a silent override.
    block = re.search(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert block is not None
    example = Summarizer.from_config(tomllib.loads(block.group(1)))
    default = Summarizer.from_config({})
    assert (example.ingest, example.train, example.themes, example.device) == (
        default.ingest,
        default.train,
        default.themes,
        default.device,
    )


def test_readme_layout_names_every_public_module() -> None:
    # The layout paragraph had lost corpus/, documents.py and synthetic.py.
    package = Path(__file__).resolve().parent.parent / "src" / "themescope"
    public = [
        f"`{path.name}/`" if path.is_dir() else f"`{path.name}`"
        for path in sorted(package.iterdir())
        if not path.name.startswith("_") and (path.is_dir() or path.suffix == ".py")
    ]
    text = _readme_text()
    assert [name for name in public if name not in text] == []
