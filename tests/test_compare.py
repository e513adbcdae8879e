"""themescope compare: hand-built run directories with known shared and own themes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageDraw

from themescope._cli import main
from themescope.documents import read_compare
from themescope.errors import ConfigError, ModelLoadError, RunDirectoryError, StageNotDoneError
from themescope.manifest import CompareRecord, ReportRecord
from themescope.rundir import RunDirectory
from themescope.themes.base import PhraseEmbedder
from themescope.themes.compare import (
    SAME_MEANING_SIMILARITY,
    ComparisonResult,
    compare_runs,
    visual_features,
)

N_FRAMES_PER_THEME = 6


def _draw(look: str, rng: np.random.Generator, size: tuple[int, int], shade: int) -> Image.Image:
    """A frame of one of four looks a news report has, with per-frame jitter."""
    width, height = size
    jitter = int(rng.integers(-4, 5))
    if look == "studio":  # dark blue set, a red desk, a bright anchor silhouette
        image = Image.new("RGB", size, (20, 30, 110 + shade))
        draw = ImageDraw.Draw(image)
        draw.rectangle([0, int(height * 0.7), width, height], fill=(170 + shade, 20, 30))
        cx = width // 2 + jitter
        draw.ellipse([cx - 20, 30, cx + 20, 80], fill=(230, 200, 170))
    elif look == "interview":  # green wall with vertical bookshelf stripes
        image = Image.new("RGB", size, (40, 120 + shade, 50))
        draw = ImageDraw.Draw(image)
        for x in range(0, width, 12):
            draw.rectangle([x + jitter, 0, x + jitter + 4, height], fill=(90, 60, 20))
    elif look == "vaccination":  # white clinic, pale blue gown, thin diagonal lines
        image = Image.new("RGB", size, (235, 235, 235 - shade))
        draw = ImageDraw.Draw(image)
        draw.rectangle([width // 3 + jitter, 40, 2 * width // 3, height], fill=(150, 190, 230))
        for offset in range(-height, width, 20):
            draw.line([offset, height, offset + height, 0], fill=(120, 120, 120), width=2)
    elif look == "street":  # orange checkerboard of buildings
        image = Image.new("RGB", size, (240, 140 + shade, 20))
        draw = ImageDraw.Draw(image)
        for x in range(0, width, 20):
            for y in range((x // 20) % 2 * 20, height, 40):
                draw.rectangle([x, y + jitter, x + 20, y + 20 + jitter], fill=(60, 40, 30))
    else:
        raise ValueError(look)
    noise = rng.normal(0, 6, (height, width, 3))
    return Image.fromarray(
        np.clip(np.asarray(image, dtype=np.float64) + noise, 0, 255).astype(np.uint8)
    )


def make_run(
    path: Path,
    *,
    lang: str,
    themes: list[tuple[str, list[str]]],
    size: tuple[int, int] = (320, 180),
    shade: int = 0,
    seed: int = 0,
    captions: dict[str, str] | None = None,
    tagger: dict[str, Any] | None = None,
    theme_backends: list[str] | None = None,
    themes_done: bool = True,
    frame_text: bool = True,
) -> Path:
    """Write a run directory with the files compare reads: manifest, frames, themes.json."""
    rng = np.random.default_rng(seed)
    (path / "frames").mkdir(parents=True)
    rows: dict[str, list[Any]] = {"frame_id": [], "image": [], "text": [], "lang": [], "theme": []}
    if captions is not None:
        rows["caption"] = []
    theme_records = []
    # Interleave themes in time, as a report cuts between studio, interview and scenes.
    order = [t for _ in range(N_FRAMES_PER_THEME) for t in range(len(themes))]
    members: dict[int, list[int]] = {t: [] for t in range(len(themes))}
    for frame_id, theme in enumerate(order):
        look, phrases = themes[theme]
        image = f"frames/{frame_id:06d}.jpg"
        _draw(look, rng, size, shade).save(path / image, quality=90)
        rows["frame_id"].append(frame_id)
        rows["image"].append(image)
        rows["text"].append(phrases[frame_id % len(phrases)] if frame_text else "")
        rows["lang"].append(lang)
        rows["theme"].append(theme)
        if captions is not None:
            rows["caption"].append(captions.get(look, ""))
        members[theme].append(frame_id)
    for theme, (_look, phrases) in enumerate(themes):
        theme_records.append(
            {
                "id": theme,
                "label": phrases[0],
                "frames": members[theme],
                "n_frames": len(members[theme]),
                "share": round(1 / len(themes), 4),
                "seconds": 2.0 * len(members[theme]),
                "spans": [],
                "representative_frames": members[theme][:2],
                "phrases": [
                    {
                        "text": text,
                        "score": round(1 - i / 10, 2),
                        "supported": True,
                        "evidence": {"frame_ids": [], "quotes": [], "captions": [], "support": 0.0},
                    }
                    for i, text in enumerate(phrases)
                ],
                "phrases_note": None,
                "tagger": {
                    "backend": theme_backends[theme] if theme_backends else "extractive",
                    "model": None,
                    "prompt": None,
                    "fallback_reason": None,
                },
            }
        )
    pq.write_table(
        pa.table(
            {
                "frame_id": pa.array(rows["frame_id"], pa.int64()),
                "image": pa.array(rows["image"], pa.string()),
                "text": pa.array(rows["text"], pa.string()),
                "lang": pa.array(rows["lang"], pa.string()),
                "theme": pa.array(rows["theme"], pa.int64()),
                **({"caption": pa.array(rows["caption"], pa.string())} if captions else {}),
            }
        ),
        path / "frames.parquet",
    )
    stages: dict[str, Any] = {
        "ingest": {"done": True, "fingerprint": "i", "lang": lang, "video": {"duration_s": 48.0}},
        "train": {"done": True, "fingerprint": "t"},
    }
    if themes_done:
        stages["themes"] = {"done": True, "fingerprint": "th"}
        n_frames = len(order)
        document = {
            "schema_version": 1,
            "k": len(themes),
            "k_selection": {
                "method": "user",
                "range": [len(themes), len(themes)],
                "chosen": len(themes),
                "reason": "given",
                "table": [],
            },
            "backends": {
                "captioner": {"name": "blip" if captions else "none", "model": None},
                "tagger": tagger or {"name": "extractive"},
                "embedder": {"name": "all-MiniLM-L6-v2", "path": None},
                "cluster": "sklearn",
            },
            "projection": {
                "method": "trivial",
                "perplexity": None,
                "n_fitted": n_frames,
                "points": [[0.0, 0.0]] * n_frames,
            },
            "themes": theme_records,
            "warnings": [],
        }
        (path / "themes.json").write_text(json.dumps(document, ensure_ascii=False))
    manifest = {
        "schema_version": 1,
        "tool": "themescope",
        "version": "0.1.0",
        "created": "2026-01-01T00:00:00+00:00",
        "inputs": {"video": {"path": f"/videos/{path.name}.mp4"}},
        "config": {},
        "stages": stages,
    }
    (path / "manifest.json").write_text(json.dumps(manifest))
    return path


EN_THEMES = {
    "studio": ["news anchor", "studio desk", "evening broadcast", "headline", "presenter"],
    "interview": ["expert interview", "public health expert", "doctor explains", "research"],
    "vaccination": ["vaccination site", "nurse gives shot", "syringe", "vaccine dose", "clinic"],
    "street": ["city street", "traffic", "shoppers", "downtown"],
}
EN_THEMES_B = {
    "studio": ["television presenter", "newsroom", "anchor desk", "top stories"],
    "interview": ["interview with a scientist", "health specialist", "medical expert"],
    "vaccination": ["getting vaccinated", "injection", "vaccine shot", "nurses"],
    "street": ["busy road", "pedestrians", "urban traffic"],
}
ZH_THEMES = {
    "studio": ["新闻主播", "演播室", "新闻联播", "头条"],
    "interview": ["专家访谈", "公共卫生专家", "医生解释"],
    "vaccination": ["疫苗接种点", "护士打针", "注射器", "疫苗剂量"],
    "street": ["城市街道", "交通", "行人"],
}
LOOKS_A = ["studio", "interview", "vaccination"]
LOOKS_B = ["vaccination", "studio", "interview", "street"]  # other order, one own theme
EXPECTED_PAIRS = {(0, 1), (1, 2), (2, 0)}  # theme of A -> theme of B with the same look


@pytest.fixture(scope="module")
def minilm() -> PhraseEmbedder:
    """The English-only MiniLM: these tests check how compare treats a monolingual embedder."""
    from themescope.embedding import load_embedder

    return load_embedder("minilm")


@pytest.fixture
def runs(tmp_path: Path) -> Callable[..., tuple[Path, Path]]:
    def build(lang_b: str = "zh", **kwargs_b: Any) -> tuple[Path, Path]:
        run_a = make_run(
            tmp_path / "us",
            lang="en",
            themes=[(look, EN_THEMES[look]) for look in LOOKS_A],
            **kwargs_b.pop("kwargs_a", {}),
        )
        vocabulary = ZH_THEMES if lang_b == "zh" else EN_THEMES_B
        run_b = make_run(
            tmp_path / "cn",
            lang=lang_b,
            themes=[(look, vocabulary[look]) for look in LOOKS_B],
            size=(240, 180),
            shade=25,
            seed=1,
            **kwargs_b,
        )
        return run_a, run_b

    return build


def _data(result: ComparisonResult) -> dict[str, Any]:
    """compare.json as plain JSON values, so the tests check the file's layout too."""
    data: dict[str, Any] = json.loads(msgspec.json.encode(result.document))
    return data


def _pairs(data: dict[str, Any]) -> set[tuple[int, int]]:
    return {(m["a"], m["b"]) for m in data["matching"] if m["shared"]}


def test_cross_language_text_is_compared_by_the_default_multilingual_embedder(
    runs: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    run_a, run_b = runs("zh")
    result = compare_runs(run_a, run_b, tmp_path / "out")
    data = result.document
    assert data.text_comparable is True and data.matrices.text is not None
    assert data.embedder is not None and data.embedder.name == "multilingual-e5-small"
    assert {(a, b) for a, b, _ in result.shared_pairs} == EXPECTED_PAIRS
    methods = {m.name: m for m in data.methods}
    assert methods["text"].basis == "frame-text"
    # The frames' words alone point at the true partner, across languages.
    text = np.array(data.matrices.text, dtype=float)
    assert {(i, int(np.argmax(text[i]))) for i in range(3)} == EXPECTED_PAIRS
    assert data.phrase_matching is not None and data.phrase_matching.glosses is True
    assert data.gloss_language == "en"


def test_differences_are_by_meaning_across_languages_with_glosses(
    runs: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    run_a, run_b = runs("zh")
    data = _data(compare_runs(run_a, run_b, tmp_path / "out"))
    shared_a = {s["theme"]: s for s in data["per_run"]["a"]["shared"]}
    shared_b = {s["theme"]: s for s in data["per_run"]["b"]["shared"]}
    # Vaccination: B says 疫苗接种点 护士打针 注射器 疫苗剂量, A says each of them in English
    # and "clinic" as well: only "clinic" is A's own; B says nothing A does not.
    vaccination_a, vaccination_b = shared_a[2], shared_b[0]
    assert vaccination_a["difference_basis"] == "text"
    assert [d["text"] for d in vaccination_a["difference_phrases"]] == ["clinic"]
    assert vaccination_b["difference_phrases"] == []
    both = {p["text"]: p for p in vaccination_b["said_by_both"]}
    assert both["注射器"]["other"] == "syringe" and both["注射器"]["gloss"] == "syringe"
    assert both["疫苗剂量"]["other"] == "vaccine dose"
    assert all(p["similarity"] >= SAME_MEANING_SIMILARITY for p in both.values())
    assert {p["other"] for p in vaccination_a["said_by_both"]} <= set(ZH_THEMES["vaccination"])
    difference = vaccination_a["difference_phrases"][0]
    assert difference["similarity_to_other"] < SAME_MEANING_SIMILARITY
    assert difference["closest"] in ZH_THEMES["vaccination"] and difference["closest_gloss"]
    assert shared_b[2]["difference_phrases"] == []  # the interview: all said in English too
    # B's street theme has no counterpart: what makes it its own, every phrase glossed.
    (own,) = data["per_run"]["b"]["own"]
    assert own["label"] == "城市街道" and own["label_gloss"] == "city street"
    assert [d["text"] for d in own["difference_phrases"]] == ZH_THEMES["street"]
    assert all(d["gloss"] and d["gloss"].isascii() for d in own["difference_phrases"])
    # Every Chinese phrase and label compare.json copies from themes.json carries its
    # gloss (themes.json here has none: compare glosses them); English ones need none.
    for key, chinese in (("a", False), ("b", True)):
        for theme in data["runs"][key]["themes"]:
            assert bool(theme["label_gloss"]) is chinese
            assert all(bool(p["gloss"]) is chinese for p in theme["phrases"])
    assert shared_a[2]["with_label_gloss"] and not shared_a[2]["label_gloss"]
    # Glosses off: none anywhere, and phrases are compared without them.
    plain = _data(compare_runs(run_a, run_b, tmp_path / "plain", gloss_language="none"))
    assert plain["gloss_language"] is None and plain["phrase_matching"]["glosses"] is False
    assert not any(p["gloss"] for t in plain["runs"]["b"]["themes"] for p in t["phrases"])


def test_without_frame_text_the_phrases_are_compared(
    runs: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    run_a, run_b = runs("zh", frame_text=False)
    data = compare_runs(run_a, run_b, tmp_path / "out").document
    methods = {m.name: m for m in data.methods}
    assert methods["text"].used and methods["text"].basis == "phrases"
    text = np.array(data.matrices.text, dtype=float)
    assert {(i, int(np.argmax(text[i]))) for i in range(3)} == EXPECTED_PAIRS
    assert {(a, b) for a, b, _ in compare_runs(run_a, run_b, tmp_path / "o").shared_pairs} == (
        EXPECTED_PAIRS
    )


def test_glosses_in_themes_json_are_kept(
    runs: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    run_a, run_b = runs("zh")
    path = run_b / "themes.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["themes"][0]["phrases"][0]["gloss"] = "vaccination point"
    document["themes"][0]["label_gloss"] = "vaccination point"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    data = _data(compare_runs(run_a, run_b, tmp_path / "out"))
    theme = data["runs"]["b"]["themes"][0]
    assert theme["label_gloss"] == "vaccination point"
    assert theme["phrases"][0] == {"text": "疫苗接种点", "score": 1.0, "gloss": "vaccination point"}
    assert theme["phrases"][1]["gloss"] == "nurse give or have an injection"  # from CC-CEDICT


def test_cross_language_matches_by_look_and_refuses_text(
    runs: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    run_a, run_b = runs("zh")
    result = compare_runs(run_a, run_b, tmp_path / "out", embedder="minilm")
    data = json.loads(result.path.read_text(encoding="utf-8"))
    assert read_compare(result.path) == result.document
    assert data["schema_version"] == 2
    assert data["languages"] == {"a": "en", "b": "zh", "same": False}
    assert _pairs(data) == EXPECTED_PAIRS
    assert result.shared_pairs and {(a, b) for a, b, _ in result.shared_pairs} == EXPECTED_PAIRS
    # The street theme of B has no counterpart in A: it is B's own.
    assert [own["theme"] for own in data["per_run"]["b"]["own"]] == [3]
    assert data["per_run"]["a"]["own"] == []
    assert data["text_comparable"] is False
    assert data["text_comparable_reason"] == (
        "the runs' languages differ ('en' vs 'zh') and the embedder all-MiniLM-L6-v2 is "
        "monolingual, so phrase similarities across languages would be meaningless; pass a "
        "multilingual --embedder (with --multilingual if its name does not say so) or tag both "
        "runs with `--tagger llm --tag-language en`"
    )
    methods = {m["name"]: m for m in data["methods"]}
    assert methods["visual"]["used"] and not methods["text"]["used"]
    assert not methods["caption"]["used"]
    assert data["matrices"]["text"] is None and data["matrices"]["caption"] is None
    assert data["embedder"] is None  # no text method ran, so no model was loaded
    visual = np.array(data["matrices"]["visual"], dtype=float)
    assert visual.shape == (3, 4)
    for a, b in EXPECTED_PAIRS:
        assert visual[a, b] > 0.5
        assert visual[a, b] == visual[a].max()
    assert data["visual_space"]["n_frames"] == {"a": 18, "b": 24}
    assert any(
        w.startswith("text similarity not used: the runs' languages differ")
        for w in data["warnings"]
    )
    shared_b = {s["theme"]: s for s in data["per_run"]["b"]["shared"]}
    assert shared_b[0]["with"] == 2 and shared_b[0]["label"] == "疫苗接种点"
    assert shared_b[0]["difference_basis"] == "own-ranking"
    assert [p["text"] for p in shared_b[0]["difference_phrases"]] == ZH_THEMES["vaccination"]
    assert shared_b[0]["said_by_both"] == [] and data["phrase_matching"] is None
    theme_b = data["runs"]["b"]["themes"][0]
    assert theme_b["phrases"][0] == {
        "text": "疫苗接种点",
        "score": 1.0,
        "gloss": "vaccine be vaccinated point",
    }
    assert theme_b["representative_images"] == ["frames/000000.jpg", "frames/000004.jpg"]
    assert data["runs"]["a"]["video"] == "/videos/us.mp4"
    assert data["runs"]["b"]["path"] == str(run_b.resolve())
    assert "疫苗接种点" in result.path.read_text(encoding="utf-8")  # readable UTF-8, not escapes


def test_same_language_uses_text_and_difference_phrases(
    runs: Callable[..., tuple[Path, Path]], tmp_path: Path, minilm: PhraseEmbedder
) -> None:
    run_a, run_b = runs("en")
    data = _data(compare_runs(run_a, run_b, tmp_path / "out", embedder=minilm))
    assert data["text_comparable"] is True
    assert (
        data["text_comparable_reason"]
        == "both runs are in the same language ('en'); their words are compared"
    )
    assert data["embedder"]["name"] == "all-MiniLM-L6-v2"
    assert data["embedder"]["multilingual"] is False
    text = np.array(data["matrices"]["text"], dtype=float)
    # Phrases alone (different wording, same topic) point at the right partner.
    assert {(i, int(np.argmax(text[i]))) for i in range(3)} == EXPECTED_PAIRS
    assert _pairs(data) == EXPECTED_PAIRS
    match = next(m for m in data["matching"] if m["a"] == 0)
    assert set(match["scores"]) == {"text", "caption", "visual"}
    assert match["scores"]["caption"] is None
    combined = np.array(data["matrices"]["combined"], dtype=float)
    expected = (text + np.array(data["matrices"]["visual"], dtype=float)) / 2
    assert np.allclose(combined, expected, atol=2e-4)
    shared_a = {s["theme"]: s for s in data["per_run"]["a"]["shared"]}
    assert shared_a[0]["difference_basis"] == "text"
    differences = [p["text"] for p in shared_a[0]["difference_phrases"]]
    assert differences == [p for p in EN_THEMES["studio"] if p in differences]  # best first
    similarities = [p["similarity_to_other"] for p in shared_a[0]["difference_phrases"]]
    assert all(value < SAME_MEANING_SIMILARITY for value in similarities)
    # Comparing a run with itself: every phrase has its twin, so nothing differs.
    itself = _data(compare_runs(run_a, run_a, tmp_path / "self", embedder=minilm))
    assert _pairs(itself) == {(0, 0), (1, 1), (2, 2)}
    assert all(s["difference_phrases"] == [] for s in itself["per_run"]["a"]["shared"])
    for shared in itself["per_run"]["a"]["shared"]:
        assert all(p["text"] == p["other"] for p in shared["said_by_both"])
    own_b = data["per_run"]["b"]["own"]
    assert [o["theme"] for o in own_b] == [3] and own_b[0]["difference_basis"] == "text"


def test_captions_and_llm_tags_make_cross_language_runs_comparable(
    runs: Callable[..., tuple[Path, Path]], tmp_path: Path, minilm: PhraseEmbedder
) -> None:
    captions = {
        "studio": "a man sitting at a desk in a news studio",
        "interview": "a man standing in front of a bookshelf",
        "vaccination": "a nurse giving a woman an injection",
        "street": "a busy city street with cars",
    }
    llm = {"name": "llm", "backend": "llm-http", "model": "m", "language": "en"}
    run_a, run_b = runs(
        "zh",
        captions=captions,
        tagger=llm,
        # Theme 2 of B fell back to the extractive tagger: its (Chinese) phrases are not compared.
        theme_backends=["llm-http", "llm-http", "extractive", "llm-http"],
        kwargs_a={"captions": captions, "tagger": llm, "theme_backends": ["llm-http"] * 3},
    )
    data = _data(compare_runs(run_a, run_b, tmp_path / "out", embedder=minilm))
    methods = {m["name"]: m for m in data["methods"]}
    assert methods["caption"]["used"] is True
    assert methods["text"]["used"] is True and methods["text"]["basis"] == "llm-tags"
    assert data["text_comparable_reason"].startswith(
        "the runs' languages differ ('en' vs 'zh') but both were tagged by an LLM in 'en'"
    )
    text = data["matrices"]["text"]
    assert all(row[2] is None for row in text)
    assert all(value is not None for row in text for j, value in enumerate(row) if j != 2)
    caption = np.array(data["matrices"]["caption"], dtype=float)
    assert caption[2, 0] == pytest.approx(1.0, abs=1e-4)  # identical captions
    assert _pairs(data) == EXPECTED_PAIRS


def test_multilingual_flag_enables_phrases_across_languages(
    runs: Callable[..., tuple[Path, Path]], tmp_path: Path, minilm: PhraseEmbedder
) -> None:
    run_a, run_b = runs("zh")
    data = _data(compare_runs(run_a, run_b, tmp_path / "out", embedder=minilm, multilingual=True))
    assert data["text_comparable"] is True
    assert data["text_comparable_reason"] == (
        "the runs' languages differ ('en' vs 'zh') but the embedder is multilingual "
        "(declared multilingual with --multilingual)"
    )
    assert data["embedder"]["multilingual_reason"] == "declared multilingual with --multilingual"


def test_visual_features_shape_and_range() -> None:
    rng = np.random.default_rng(0)
    vector = visual_features(_draw("studio", rng, (320, 180), 0))
    assert vector.shape == (32 * 18 * 3 + 48 + 16 + 8,)
    assert vector.dtype == np.float32
    assert vector.min() >= 0.0 and vector.max() <= 1.0


def test_bad_inputs_have_clear_messages(
    runs: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    run_a, run_b = runs("zh")
    missing = tmp_path / "nope"
    with pytest.raises(RunDirectoryError, match=f"^run directory {missing} does not exist$"):
        compare_runs(missing, run_b, tmp_path / "out")
    no_themes = make_run(tmp_path / "raw", lang="en", themes=[("studio", ["a"])], themes_done=False)
    with pytest.raises(
        StageNotDoneError,
        match=f"^{no_themes} has no finished themes stage; run `themescope themes` first$",
    ):
        compare_runs(run_a, no_themes, tmp_path / "out")
    # A bad --embedder is refused even when only the visual method would run.
    with pytest.raises(ModelLoadError, match="is not a local folder; themescope never downloads"):
        compare_runs(run_a, run_b, tmp_path / "out", embedder=str(tmp_path / "no-model"))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(
        RunDirectoryError,
        match=rf"^{busy} already holds other files \(notes.txt\) and is not a themescope "
        "run; choose another --out or pass --force$",
    ):
        compare_runs(run_a, run_b, busy)
    assert compare_runs(run_a, run_b, busy, force=True).path == busy / "compare.json"
    assert (busy / "notes.txt").read_text() == "mine"
    # An --out holding only an earlier comparison is simply rewritten.
    again = compare_runs(run_a, run_b, tmp_path / "out")
    assert compare_runs(run_a, run_b, tmp_path / "out").path == again.path


def test_cli_compare(
    runs: Callable[..., tuple[Path, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_a, run_b = runs("zh")
    out = tmp_path / "cli-out"
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", str(run_a), str(run_b), "--out", str(out)])
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    assert "languages: en vs zh · methods: visual" in printed
    assert "3 shared · 0 own to A · 1 own to B" in printed
    assert (out / "compare.json").is_file()
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", str(run_a), str(tmp_path / "nope"), "--out", str(out)])
    assert exit_info.value.code == 2
    assert (
        f"themescope: error: run directory {tmp_path / 'nope'} does not exist"
        in capsys.readouterr().err
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", str(run_a), str(run_b), "--out", str(out), "--gloss-language", "fr"])
    assert exit_info.value.code == 2
    assert (
        "--gloss-language (compare.gloss_language) must be one of en, none. Got 'fr' instead."
        in capsys.readouterr().err
    )


def test_a_comparison_is_a_run_directory_skipped_when_current(
    runs: Callable[..., tuple[Path, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15, part 2: compare had no lock, no fingerprint, no manifest, and never skipped."""
    run_a, run_b = runs("zh")
    out = tmp_path / "cmp"

    def compare(*args: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as exit_info:
            main(["compare", str(run_a), str(run_b), "--out", str(out), *args])
        code = exit_info.value.code
        return (code if isinstance(code, int) else 1), capsys.readouterr().out

    code, printed = compare()
    assert code == 0 and "comparison (compare ran, report ran)" in printed
    manifest = RunDirectory(out, kind="comparison").read_manifest()
    record = manifest.record("compare", CompareRecord)
    assert record is not None and (record.n_themes_a, record.n_themes_b) == (3, 4)
    assert record.n_shared == 3 and record.files == ["compare.json"]
    assert manifest.record("report", ReportRecord) is not None
    assert manifest.config["compare"]["threshold"] == 0.5
    assert (out / "compare.html").is_file()
    assert compare()[1].count("comparison (compare skipped, report skipped)") == 1
    # A new threshold, or new themes in one of the runs, redoes the comparison and its page.
    assert "comparison (compare ran, report ran)" in compare("--threshold", "0.9")[1]
    themes_a = json.loads((run_a / "manifest.json").read_text())
    themes_a["stages"]["themes"]["fingerprint"] = "new themes"
    (run_a / "manifest.json").write_text(json.dumps(themes_a))
    assert "comparison (compare ran, report ran)" in compare("--threshold", "0.9")[1]


def test_a_comparison_and_a_run_are_not_taken_for_each_other(
    runs: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    run_a, run_b = runs("zh")
    with pytest.raises(RunDirectoryError) as info:
        compare_runs(run_a, run_b, run_b)
    assert str(info.value) == (
        f"{run_b} is a single video's directory, not a comparison; choose another --out"
    )
    out = compare_runs(run_a, run_b, tmp_path / "cmp").path.parent
    with pytest.raises(RunDirectoryError) as info:
        RunDirectory(out).check_usable()
    assert str(info.value) == (
        f"{out} is a comparison (made by `themescope compare`), not a single video's run; "
        "choose another --out"
    )
    with pytest.raises(ConfigError) as config_info:
        compare_runs(run_a, run_b, tmp_path / "cmp", threshold=2)
    assert str(config_info.value) == (
        "--threshold (compare.threshold) must be a number in [-1, 1]. Got 2 instead."
    )
