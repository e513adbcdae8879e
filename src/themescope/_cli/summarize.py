"""``themescope summarize``: ingest → train → themes → report in one command, resumable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from themescope._cli._app import app
from themescope.errors import ConfigError


@app.command("summarize")
def summarize_command(
    video: Path = typer.Argument(..., help="The video file."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Run directory to write (resumed if it exists)."
    ),
    subtitles: Path | None = typer.Option(
        None,
        "--subtitles",
        "-s",
        help="Subtitles / transcript (SRT, VTT, ASS, YouTube JSON/CSV, text).",
    ),
    config_file: Path | None = typer.Option(
        None, "--config", "-c", help="TOML or YAML file with [ingest], [train], [themes] sections."
    ),
    every: float | None = typer.Option(
        None, "--every", help="Seconds between sampled frames [2.0]."
    ),
    lang: str | None = typer.Option(
        None, "--lang", help="Language of the text: auto, en, zh [auto]."
    ),
    align: str | None = typer.Option(
        None, "--align", help="Alignment: window or nearest [window]."
    ),
    subtitle_encoding: str | None = typer.Option(
        None, "--subtitle-encoding", help="Encoding of the subtitle file [detected]."
    ),
    asr_model: str | None = typer.Option(
        None, "--asr-model", help="Local faster-whisper model folder."
    ),
    preset: str | None = typer.Option(None, "--preset", help="CRVAE preset: fast or paper [fast]."),
    epochs: int | None = typer.Option(None, "--epochs", help="Exact number of training epochs."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of training and clustering."),
    device: str | None = typer.Option(None, "--device", help="auto, cpu, cuda or mps [auto]."),
    word_vectors: str | None = typer.Option(
        None, "--word-vectors", help="GloVe / word2vec text file [bundled MiniLM token vectors]."
    ),
    k: int | None = typer.Option(
        None, "--k", help="Fixed number of themes [chosen automatically]."
    ),
    k_range: str | None = typer.Option(None, "--k-range", help="Range k is chosen from, e.g. 3-5."),
    captioner: str | None = typer.Option(None, "--captioner", help="none or blip [none]."),
    captioner_model: str | None = typer.Option(
        None, "--captioner-model", help="Local BLIP folder."
    ),
    tagger: str | None = typer.Option(None, "--tagger", help="extractive or llm [extractive]."),
    llm_url: str | None = typer.Option(None, "--llm-url", help="OpenAI-compatible server URL."),
    llm_model: str | None = typer.Option(
        None, "--llm-model", help="LLM name on the server, or local folder."
    ),
    tag_language: str | None = typer.Option(
        None, "--tag-language", help="Language of LLM tags, e.g. en."
    ),
    embedder: str | None = typer.Option(
        None, "--embedder", help="Local sentence-transformers folder."
    ),
    settings: list[str] | None = typer.Option(
        None,
        "--set",
        help="Any other option as section.key=value (JSON value), e.g. train.lr=0.001.",
    ),
    force: bool = typer.Option(
        False, "--force", help="Redo every stage; accept an --out holding other files."
    ),
) -> None:
    """Summarize VIDEO into explained themes and RUN/report.html, resuming what is already done."""
    from themescope.pipeline import Summarizer, load_config, merge_config

    flags: dict[str, dict[str, Any]] = {
        "ingest": {
            "every_s": every,
            "lang": lang,
            "align": align,
            "subtitle_encoding": subtitle_encoding,
            "asr_model": asr_model,
        },
        "train": {
            "preset": preset,
            "epochs": epochs,
            # epochs the user asked for are exact: no adjustment to the video's length
            "min_steps": 0 if epochs is not None else None,
            "max_steps": 0 if epochs is not None else None,
            "seed": seed,
            "word_vectors": word_vectors,
        },
        "themes": {
            "k": k,
            "k_range": _parse_range(k_range) if k_range is not None else None,
            "captioner": captioner,
            "captioner_model": captioner_model,
            "tagger": tagger,
            "llm_url": llm_url,
            "llm_model": llm_model,
            "tag_language": tag_language,
            "embedder": embedder,
            "seed": seed,
        },
    }
    overrides: dict[str, Any] = {
        section: {key: value for key, value in values.items() if value is not None}
        for section, values in flags.items()
    }
    if device is not None:
        overrides["device"] = device
    for setting in settings or []:
        section, key, value = _parse_setting(setting)
        overrides.setdefault(section, {})[key] = value
    base = load_config(config_file) if config_file is not None else {}
    summarizer = Summarizer.from_config(merge_config(base, overrides))
    result = summarizer.run(video, subtitles, out=out, force=force)
    _print_summary(result)


def _parse_range(text: str) -> list[int]:
    try:
        low, high = (int(part) for part in text.split("-", 1))
    except ValueError:
        raise ConfigError(f"--k-range must look like 3-5. Got {text!r} instead.") from None
    return [low, high]


def _parse_setting(text: str) -> tuple[str, str, Any]:
    name, sep, raw = text.partition("=")
    section, dot, key = name.partition(".")
    if not sep or not dot or not key:
        raise ConfigError(f"--set must look like section.key=value. Got {text!r} instead.")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return section, key, value


def _print_summary(result: Any) -> None:
    # soft_wrap: paths and phrases stay on one line, whatever the terminal's width.
    console = Console(soft_wrap=True)
    done = ", ".join(f"{stage} {status}" for stage, status in result.stages.items())
    console.print(f"[bold]{result.k} themes[/bold] ({done})")
    console.print(f"k: {result.k_reason}", markup=False, highlight=False)
    for theme in result.themes:
        phrases = ", ".join(theme.phrases[:5]) or "(no phrases: no text in this theme)"
        console.print(
            f"  theme {theme.id}  {theme.share:5.1%} of the time  {phrases}",
            markup=False,
            highlight=False,
        )
    if result.warnings:
        console.print(f"{len(result.warnings)} warning(s) recorded in the manifest and the report")
    console.print(f"report: {result.report_path}", markup=False, highlight=False)
