"""``themescope themes``: cluster a trained run into explained themes."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from themescope._cli._app import app
from themescope.errors import ConfigError

_RANGE = re.compile(r"^\s*(\d+)\s*[-:]\s*(\d+)\s*$")


def parse_k_range(text: str) -> tuple[int, int]:
    """Parse "3-5" (or "3:5", or a single "4") into an inclusive range."""
    match = _RANGE.match(text)
    if match:
        return int(match.group(1)), int(match.group(2))
    if text.strip().isdigit():
        return int(text), int(text)
    raise ConfigError(f"--k-range must look like 3-5, got {text!r}")


@app.command("themes")
def themes_command(
    run: Path = typer.Argument(..., help="Run directory with finished ingest and train stages."),
    k: int | None = typer.Option(
        None, "--k", help="Number of themes (skips the automatic choice)."
    ),
    k_range: str = typer.Option(
        "3-5", "--k-range", help="Range the number of themes is chosen from."
    ),
    captioner: str = typer.Option("none", "--captioner", help="Frame captioner: none or blip."),
    captioner_model: str | None = typer.Option(
        None,
        "--captioner-model",
        help="Local BLIP model folder (or an id already in the local cache).",
    ),
    tagger: str = typer.Option("extractive", "--tagger", help="Phrase tagger: extractive or llm."),
    llm_url: str | None = typer.Option(
        None,
        "--llm-url",
        help="OpenAI-compatible server (Ollama, llama.cpp, vLLM); omit to run --llm-model locally.",
    ),
    llm_model: str | None = typer.Option(
        None, "--llm-model", help="Model name on the server, or a local transformers model folder."
    ),
    tag_language: str | None = typer.Option(
        None, "--tag-language", help="Language of LLM tags (e.g. en, to compare across languages)."
    ),
    embedder: str | None = typer.Option(
        None,
        "--embedder",
        help="Local sentence-transformers folder (e.g. PhraseBERT); default: bundled MiniLM.",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of every random step."),
    force: bool = typer.Option(False, "--force", help="Redo the stage even when it is up to date."),
) -> None:
    """Cluster the frames of RUN into themes, each described by phrases with evidence."""
    from themescope.themes.stage import ThemesConfig, build_themes

    config = ThemesConfig(
        k=k,
        k_range=parse_k_range(k_range),
        captioner=captioner.strip().lower(),
        captioner_model=captioner_model,
        tagger=tagger.strip().lower(),
        llm_url=llm_url,
        llm_model=llm_model,
        tag_language=tag_language,
        embedder=embedder,
        seed=seed,
    )
    result = build_themes(run, config, force=force)
    console = Console()
    data = result.data
    verb = "already up to date:" if result.skipped else "found"
    console.print(f"{verb} k={data['k']} themes ({data['k_selection']['method']}) in {run}")
    console.print(data["k_selection"]["reason"], style="dim")
    table = Table(show_header=True, header_style="bold")
    for column in ("theme", "share", "frames", "phrases"):
        table.add_column(column)
    for theme in data["themes"]:
        phrases = ", ".join(
            p["text"] + ("" if p["supported"] else " (?)") for p in theme["phrases"][:5]
        ) or (theme["phrases_note"] or "")
        table.add_row(str(theme["id"]), f"{theme['share']:.0%}", str(theme["n_frames"]), phrases)
    console.print(table)
    for warning in data.get("warnings", []):
        console.print(f"warning: {warning}", style="yellow")
    console.print(f"→ {Path(run) / 'themes.json'}")
