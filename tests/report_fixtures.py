"""Hand-built run directories and a comparison for the report tests.

The runs follow the data contract exactly (manifest with stage records,
frames.parquet, cues.parquet, JPEG frames, train_log.csv, themes.json) without
running the pipeline, so the report can be tested in isolation. Their texts carry
markup injection payloads and Chinese text. :func:`parse_page` reads a written page's
tags and scripts back.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from themescope._atomic import write_json_atomic

# Payloads that would run if any text reached the page as markup.
SCRIPT_PAYLOAD = "<script>window.__pwned=2</script>"
IMG_PAYLOAD = '"><img src=x onerror="window.__pwned=1">'
ALERT_PAYLOAD = "<script>alert(1)</script>"
CHINESE_TEXT = "疫苗接种正在全国展开"
CHINESE_PHRASE = "疫苗接种"
CHINESE_GLOSS = "vaccination"
EVERY_S = 2.0

_THEME_WORDS = (
    ("vaccine clinic", "nurses give the vaccine at the clinic"),
    ("studio anchor", "the anchor speaks in the studio tonight"),
    ("expert interview", "the expert explains the data in an interview"),
)
_THEME_PHRASES = (
    ("vaccine clinic", "nurses", "vaccine", "clinic", "give vaccine", "queue"),
    ("studio anchor", "anchor", "studio", "tonight", "news desk", "headline"),
    ("expert interview", "expert", "data", "explains", "interview", "chart"),
)
THEME_LABELS = (None, "TONIGHT AT THE NEWS DESK", "Expert explains the data")
"""Each theme's label where it is not its top phrase (as an on-screen headline would be)."""
THEME_PEOPLE = ((), ("dana kessler", "王华庆"), (IMG_PAYLOAD,))
"""The people of each theme (a name in each script, and a payload)."""
COMMON_PHRASES = ("vaccination drive", ALERT_PAYLOAD)
"""The phrases common to every theme (what the whole video is about)."""
_THEME_COLOURS = ((200, 40, 40), (40, 160, 60), (40, 60, 200))


def _frame_theme(frame_id: int, n_frames: int) -> int:
    """Three contiguous blocks with a short return of theme 0 at the end."""
    if frame_id >= n_frames - 2:
        return 0
    return min(frame_id * 3 // (n_frames - 2), 2)


def build_run(
    root: Path,
    *,
    name: str = "run",
    n_frames: int = 18,
    lang: str = "en",
    with_train_files: bool = True,
    with_projection: bool = True,
    with_k_selection: bool = True,
    themes_done: bool = True,
) -> Path:
    """Write a complete run directory under ``root/name`` and return its path.

    Without ``with_projection`` the projection has no points; without
    ``with_k_selection`` the k-selection table is empty (as when k was lowered).

    Frame 1's text holds the script payload, frame 2's the image payload, frame 3's
    Chinese text; theme 2's phrases include an unsupported phrase and the payloads.
    """
    run = root / name
    (run / "frames").mkdir(parents=True)
    rng = np.random.default_rng(7)
    themes_of = [_frame_theme(i, n_frames) for i in range(n_frames)]
    rows: dict[str, list[Any]] = {
        key: []
        for key in (
            "frame_id",
            "requested_s",
            "time_s",
            "image",
            "text",
            "text_raw",
            "cue_ids",
            "lang",
            "theme",
            "caption",
        )
    }
    cues: dict[str, list[Any]] = {key: [] for key in ("cue_id", "start_s", "end_s", "text")}
    cues["text_raw"] = []
    for i in range(n_frames):
        theme = themes_of[i]
        colour = np.array(_THEME_COLOURS[theme], dtype=np.float64)
        pixels = np.clip(colour + rng.normal(0, 25, (90, 160, 3)), 0, 255).astype(np.uint8)
        image = f"frames/{i:06d}.jpg"
        Image.fromarray(pixels).resize((640, 360)).save(run / image, quality=85)
        if i == 1:
            text = f"breaking {SCRIPT_PAYLOAD} {ALERT_PAYLOAD}"
        elif i == 2:
            text = f"caption {IMG_PAYLOAD}"
        elif i == 3:
            text = CHINESE_TEXT
        elif i % 5 == 4:
            text = ""
        else:
            text = f"{_THEME_WORDS[theme][1]} part {i}"
        rows["frame_id"].append(i)
        rows["requested_s"].append(i * EVERY_S)
        rows["time_s"].append(i * EVERY_S + 0.04)
        rows["image"].append(image)
        rows["text"].append(text)
        rows["text_raw"].append(text)
        rows["cue_ids"].append([i] if text else [])
        rows["lang"].append(lang)
        rows["theme"].append(theme)
        rows["caption"].append(f"a frame of {_THEME_WORDS[theme][0]}" if i != 2 else IMG_PAYLOAD)
        if text:
            cues["cue_id"].append(i)
            cues["start_s"].append(i * EVERY_S)
            cues["end_s"].append(i * EVERY_S + 1.8)
            cues["text"].append(text)
            cues["text_raw"].append(text)
    pq.write_table(pa.table(rows), run / "frames.parquet")
    pq.write_table(pa.table(cues), run / "cues.parquet")

    duration_s = n_frames * EVERY_S
    stages: dict[str, Any] = {
        "ingest": {
            "done": True,
            "seconds": 0.5,
            "fingerprint": "ingest-fp",
            "finished": "2026-01-01T00:00:00+00:00",
            "warnings": [f"subtitle line 7 was skipped: {IMG_PAYLOAD}"],
            "video": {
                "duration_s": duration_s,
                "width": 640,
                "height": 360,
                "fps": 25.0,
                "rotation_deg": 0,
                "codec": "h264",
            },
            "n_frames": n_frames,
            "every_s": EVERY_S,
            "lang": lang,
            "text_source": "subtitles",
            "encoding": "utf-8",
            "n_cues": len(cues["cue_id"]),
            "text_coverage": sum(1 for t in rows["text"] if t) / n_frames,
            "n_corrupt_packets": 0,
            "stopped_at_s": None,
        },
        "train": {
            "done": True,
            "seconds": 3.2,
            "fingerprint": "train-fp",
            "finished": "2026-01-01T00:00:05+00:00",
            "warnings": ["training stopped early at epoch 4"],
            "psnr_db": 21.5,
            "text_cosine": 0.71,
            "epochs": 4,
            "stopped_early": True,
            "device": "cpu",
            "preset": "tiny",
            "unknown_word_rate": 0.06,
            "n_params": 123456,
        },
    }
    if themes_done:
        stages["themes"] = {
            "done": True,
            "seconds": 1.1,
            "fingerprint": "themes-fp",
            "finished": "2026-01-01T00:00:07+00:00",
            "warnings": ["k lowered from 5 to 3: too few frames"],
            "k": 3,
        }
    manifest = {
        "schema_version": 1,
        "tool": "themescope",
        "version": "0.1.0",
        "created": "2026-01-01T00:00:00+00:00",
        "inputs": {
            "video": {
                "path": f"/data/{name}.mp4",
                "size": 1000,
                "sha256": "0" * 64,
                "duration_s": duration_s,
            },
            "subtitles": {"path": f"/data/{name}.srt", "size": 10, "sha256": "1" * 64},
        },
        "config": {
            "ingest": {"every_s": EVERY_S, "lang": lang, "align": "window"},
            "train": {"epochs": 4, "preset": "tiny", "seed": 3407, "lr": 1e-4},
            "themes": {"k_range": [3, 5], "tagger": "extractive", "note": SCRIPT_PAYLOAD},
        },
        "stages": stages,
    }
    write_json_atomic(run / "manifest.json", manifest)

    if with_train_files:
        lines = ["epoch,loss,image_mse,text_mse,kl,beta,lr,seconds"]
        for epoch in range(1, 5):
            loss = 1.0 / epoch
            lines.append(f"{epoch},{loss},{loss * 0.4},{loss * 0.2},0.0,0.0,0.0001,0.3")
        (run / "train_log.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        Image.new("RGB", (400, 120), (250, 250, 250)).save(run / "reconstructions.png")
        (run / "text_reconstructions.txt").write_text(
            f"original: {CHINESE_TEXT}\nreconstructed: {SCRIPT_PAYLOAD} 疫苗\n", encoding="utf-8"
        )

    if themes_done:
        write_json_atomic(
            run / "themes.json",
            _complete(_themes_doc(themes_of, with_projection, with_k_selection)),
        )
    return run


def _themes_doc(themes_of: list[int], with_projection: bool, with_k_selection: bool) -> dict:
    n_frames = len(themes_of)
    themes = []
    for theme_id in range(3):
        frames = [i for i, t in enumerate(themes_of) if t == theme_id]
        phrases = []
        for j, word in enumerate(_THEME_PHRASES[theme_id]):
            phrases.append(
                {
                    "text": word,
                    "score": round(1.0 - 0.1 * j, 3),
                    "supported": True,
                    "evidence": {
                        "frame_ids": frames[:3],
                        "quotes": [f"{_THEME_WORDS[theme_id][1]} part {frames[0]}"],
                        "captions": [f"a frame of {_THEME_WORDS[theme_id][0]}"],
                        "support": 0.5,
                    },
                }
            )
        if theme_id == 0:
            phrases.insert(
                0,
                {
                    "text": SCRIPT_PAYLOAD,
                    "score": 1.2,
                    "supported": True,
                    "evidence": {
                        "frame_ids": [1],
                        "quotes": [f"breaking {SCRIPT_PAYLOAD}"],
                        "captions": [IMG_PAYLOAD],
                        "support": 0.2,
                    },
                },
            )
            phrases.insert(
                1,
                {
                    "text": CHINESE_PHRASE,
                    "score": 1.1,
                    "supported": True,
                    "evidence": {
                        "frame_ids": [3],
                        "quotes": [CHINESE_TEXT],
                        "captions": [],
                        "support": 0.1,
                    },
                },
            )
        if theme_id == 2:
            phrases.append(
                {
                    "text": "hallucinated moon landing",
                    "score": 0.05,
                    "supported": False,
                    "evidence": {"frame_ids": [], "quotes": [], "captions": [], "support": 0.0},
                }
            )
        spans = []
        for i in frames:
            if spans and abs(spans[-1][1] - i * EVERY_S) < 1e-9:
                spans[-1][1] = (i + 1) * EVERY_S
            else:
                spans.append([i * EVERY_S, (i + 1) * EVERY_S])
        themes.append(
            {
                "id": theme_id,
                "label": THEME_LABELS[theme_id] or phrases[0]["text"],
                "frames": frames,
                "n_frames": len(frames),
                "share": len(frames) / n_frames,
                "seconds": len(frames) * EVERY_S,
                "spans": spans,
                "representative_frames": frames[:3],
                "phrases": phrases,
                "phrases_note": (
                    f"only {len(phrases)} phrases: not enough distinct text in this theme"
                    if len(phrases) < 10
                    else None
                ),
                "people": list(THEME_PEOPLE[theme_id]),
                "tagger": {
                    "backend": "extractive",
                    "model": None,
                    "prompt": None,
                    "fallback_reason": None,
                },
            }
        )
    rng = np.random.default_rng(3)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [5.0, 8.0]])
    points = [(centres[t] + rng.normal(0, 1, 2)).round(3).tolist() for t in themes_of]
    table = [
        {
            "k": k,
            "mean_dist_to_centroid": 10.0 / k,
            "mean_centroid_dist": 5.0 + (1.0 if k == 3 else 0.0),
            "silhouette": 0.6 if k == 3 else 0.4,
            "bootstrap_stability": 0.9 if k == 3 else 0.7,
            "large_cluster_stability": 1.0,
            "elbow": None,
            "score": None,
            "sizes": [n_frames // k] * k,
        }
        for k in range(3, 6)
    ]
    return {
        "schema_version": 1,
        "k": 3,
        "k_selection": {
            "method": "auto",
            "range": [3, 5],
            "chosen": 3,
            "reason": "k=3 has the highest silhouette and bootstrap stability in 3–5.",
            "table": table if with_k_selection else [],
        },
        "backends": {
            "captioner": {"name": "none", "model": None},
            "tagger": {"name": "extractive"},
            "embedder": {"name": "all-MiniLM-L6-v2", "path": "/bundled/minilm"},
            "cluster": "sklearn",
        },
        "projection": {
            "method": "tsne" if with_projection else "trivial",
            "perplexity": 5.0 if with_projection else None,
            "n_fitted": n_frames,
            "points": points if with_projection else [],
        },
        "themes": themes,
        "common": [
            {
                "text": text,
                "score": 0.9,
                "supported": True,
                "evidence": {
                    "frame_ids": [0, 8],
                    "quotes": [f"the {text} goes on"],
                    "captions": [],
                    "support": 0.4,
                },
            }
            for text in COMMON_PHRASES
        ],
        "warnings": ["k lowered from 5 to 3: too few frames"],
    }


def build_compare(root: Path, run_a: Path, run_b: Path, *, name: str = "cmp") -> Path:
    """Write ``root/name/compare.json`` comparing two hand-built runs; return the folder.

    The document follows the schema of themescope.themes.compare (schema_version 2):
    the Chinese phrase carries its gloss, a shared theme lists what both sides say.
    """
    out = root / name
    out.mkdir(parents=True)

    def run_entry(run: Path, lang: str) -> dict[str, Any]:
        document = json.loads((run / "themes.json").read_text(encoding="utf-8"))
        themes = document["themes"]
        return {
            "path": str(run),
            "video": f"/data/{run.name}.mp4",
            "lang": lang,
            "k": len(themes),
            "n_frames": sum(t["n_frames"] for t in themes),
            "duration_s": sum(t["seconds"] for t in themes),
            "backends": document["backends"],
            "themes": [
                {
                    "id": t["id"],
                    "label": t["label"],
                    "share": t["share"],
                    "seconds": t["seconds"],
                    "n_frames": t["n_frames"],
                    "representative_frames": t["representative_frames"],
                    "representative_images": [
                        f"frames/{i:06d}.jpg" for i in t["representative_frames"]
                    ],
                    "tagger_backend": "extractive",
                    "phrases": [
                        {
                            "text": p["text"],
                            "score": p["score"],
                            "gloss": CHINESE_GLOSS if p["text"] == CHINESE_PHRASE else None,
                        }
                        for p in t["phrases"]
                    ],
                    "label_gloss": None,
                }
                for t in themes
            ],
        }

    def diff(text: str, similarity: float | None = None) -> dict[str, Any]:
        gloss = CHINESE_GLOSS if text == CHINESE_PHRASE else None
        return {"text": text, "score": 0.5, "similarity_to_other": similarity, "gloss": gloss}

    def theme_0_matched(*difference_phrases: dict[str, Any]) -> dict[str, Any]:
        # Theme 0 of either run, as matched to theme 0 of the other, seen from its side.
        return {
            "theme": 0,
            "label": SCRIPT_PAYLOAD,
            "with": 0,
            "with_label": SCRIPT_PAYLOAD,
            "score": 0.9,
            "difference_basis": "own-ranking",
            "difference_phrases": list(difference_phrases),
        }

    visual = [[0.9, 0.2, 0.1], [0.2, 0.8, 0.3], [0.1, 0.3, 0.4]]
    doc = {
        "schema_version": 2,
        "tool": "themescope",
        "version": "0.1.0",
        "created": "2026-01-01T00:00:00+00:00",
        "runs": {"a": run_entry(run_a, "en"), "b": run_entry(run_b, "zh")},
        "languages": {"a": "en", "b": "zh", "same": False},
        "embedder": None,
        "text_comparable": False,
        "text_comparable_reason": f"run A is English and run B is Chinese ({CHINESE_PHRASE}); "
        "the embedder is monolingual",
        "methods": [
            {"name": "visual", "used": True, "basis": "frames", "reason": "always comparable"},
            {"name": "text", "used": False, "basis": None, "reason": "different languages"},
            {"name": "caption", "used": False, "basis": None, "reason": "no captions"},
        ],
        "visual_space": {
            "features": "32x18 RGB thumbnail + histogram",
            "n_components": 16,
            "explained_variance": 0.81,
            "n_frames": {"a": 18, "b": 18},
            "n_missing_images": {"a": 0, "b": 0},
            "seed": 0,
        },
        "matrices": {"text": None, "caption": None, "visual": visual, "combined": visual},
        "threshold": 0.5,
        "matching": [
            {
                "a": i,
                "b": i,
                "score": visual[i][i],
                "shared": visual[i][i] >= 0.5,
                "scores": {"visual": visual[i][i], "text": None, "caption": None},
            }
            for i in range(3)
        ],
        "per_run": {
            "a": {
                "shared": [
                    {
                        **theme_0_matched(diff("clinic")),
                        "said_by_both": [
                            {
                                "text": "vaccination",
                                "gloss": None,
                                "other": CHINESE_PHRASE,
                                "other_gloss": CHINESE_GLOSS,
                                "similarity": 0.61,
                            }
                        ],
                    }
                ],
                "own": [
                    {
                        "theme": 2,
                        "label": "expert interview",
                        "best_match": {"theme": 2, "score": 0.4},
                        "difference_basis": "own-ranking",
                        "difference_phrases": [diff(SCRIPT_PAYLOAD), diff("expert")],
                    }
                ],
            },
            "b": {
                "shared": [theme_0_matched(diff(CHINESE_PHRASE))],
                "own": [
                    {
                        "theme": 2,
                        "label": "expert interview",
                        "best_match": None,
                        "difference_basis": "text",
                        "difference_phrases": [diff("interview", 0.2996)],
                    }
                ],
            },
        },
        "phrase_matching": {
            "method": "cosine of centred phrase vectors",
            "same_meaning_from": 0.3,
            "glosses": True,
        },
        "gloss_language": "en",
        "warnings": [f"theme labels are not comparable across languages {IMG_PAYLOAD}"],
    }
    # as compare writes it: every optional field present
    import msgspec

    from themescope.compare_document import CompareDocument

    complete = msgspec.to_builtins(msgspec.convert(doc, CompareDocument))
    (out / "compare.json").write_text(json.dumps(complete, ensure_ascii=False), encoding="utf-8")
    return out


def _complete(document: dict[str, Any]) -> dict[str, Any]:
    """The document as the stage writes it: every optional field present, the gloss of the
    Chinese phrase filled in as the glosser gives it."""
    import msgspec

    from themescope.documents import ThemesDocument

    typed = msgspec.convert(document, ThemesDocument)
    for theme in typed.themes:
        for phrase in theme.phrases:
            if phrase.text == CHINESE_PHRASE:
                phrase.gloss = CHINESE_GLOSS
    complete: dict[str, Any] = msgspec.to_builtins(typed)
    return complete


class PageTags(HTMLParser):
    """Collects every start tag with its attributes and the text of each script."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)
            self.scripts.append((self._in_script, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)


def parse_page(html: str) -> PageTags:
    """Parse a page's HTML into its tags and scripts."""
    parser = PageTags()
    parser.feed(html)
    parser.close()
    return parser
