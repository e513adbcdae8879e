"""The settings reference, ``docs/settings.md``, generated from the declarations and the CLI.

Nothing in it is written by hand a second time: each stage's table is read from its
:func:`~themescope._config.setting` declarations, a study's own defaults from
:data:`~themescope.corpus.study.STUDY_DEFAULTS`, and the commands that take each flag,
like the options of ``corpus`` and ``compare``, from the command line itself.
``python scripts/gen_settings.py`` writes the file; tests/test_docs.py fails when it is stale.
"""

from __future__ import annotations

import inspect

import typer.main

from themescope._cli._app import app
from themescope._config import CATEGORIES, Settings, show
from themescope.corpus.config import StudyConfig
from themescope.corpus.study import STUDY_DEFAULTS
from themescope.devices import DEVICES
from themescope.media.config import IngestConfig
from themescope.model.config import TrainConfig
from themescope.pipeline import Summarizer
from themescope.themes.config import ThemesConfig

STAGE_CONFIGS: tuple[type[Settings], ...] = (IngestConfig, TrainConfig, ThemesConfig)
"""The config-file sections, in the order the stages run."""
_FLAGGED_CONFIGS: tuple[type[Settings], ...] = (*STAGE_CONFIGS, StudyConfig)
"""Every settings class whose flags a command that runs all stages takes."""
_ALL_STAGES_COMMANDS = ("summarize", "corpus")
"""Commands that run every stage; the others run the stage of their own name."""


def settings_reference() -> str:
    """Return the text of ``docs/settings.md``."""
    command_flags = _command_flags()
    lines = [
        "# Settings reference",
        "",
        "<!-- Generated from the settings' declarations by `python scripts/gen_settings.py`;"
        " do not edit. -->",
        "",
        "Every setting is declared once, with `setting(...)` in `media/config.py`, "
        "`model/config.py` and `themes/config.py`; this page, the flags' `--help`, the "
        "config-file keys and the checks all read that declaration. A setting is taken from "
        "the first of: its flag, `--set section.key=value` (a JSON value; it reaches every "
        "setting), the config file given with `--config` (TOML or YAML, one section per stage, "
        "keys as below), the default.",
        "",
        "Categories:",
        "",
        *(f"- `{name}`: {meaning}" for name, meaning in CATEGORIES.items()),
        "",
        "## Top level",
        "",
        "| key | flag | type | default | allowed | help |",
        "|---|---|---|---|---|---|",
        "| `device` | {} | str | {} | {} | {} |".format(
            _flag_cell("--device", command_flags, tuple(command_flags)),
            _code(show(inspect.signature(Summarizer).parameters["device"].default)),
            ", ".join(DEVICES),
            "Where training and the BLIP and LLM backends run: auto takes a CUDA GPU, then "
            "Apple's MPS, else the CPU.",
        ),
    ]
    for config in STAGE_CONFIGS:
        lines += ["", f"## {config.section}", ""]
        if config is TrainConfig:
            lines += [
                'The defaults are those of the `fast` preset; `preset = "paper"` in the '
                "section (or `--preset paper`) starts from the paper's reference instead, whose "
                "values are shown where they differ. Keys given beside the preset override it.",
                "",
            ]
        lines += _stage_table(config, command_flags)
    lines += [
        "",
        "## study",
        "",
        "`themescope corpus` (and `themescope.corpus.Study`) reads the same sections, with "
        "these defaults of its own:",
        "",
        "| key | single run | study |",
        "|---|---|---|",
    ]
    configs = {config.section: config for config in STAGE_CONFIGS}
    for section, values in STUDY_DEFAULTS.items():
        defaults = configs[section].defaults()
        lines += [
            f"| `{section}.{name}` | {_code(show(defaults[name]))} | {_code(show(value))} |"
            for name, value in values.items()
        ]
    lines += [
        "",
        "and a `[study]` section of its own:",
        "",
        *_stage_table(StudyConfig, command_flags),
        "",
        "Besides the flags marked `corpus` in the tables above, `themescope corpus` takes:",
        "",
    ]
    lines += _command_table("corpus")
    lines += [
        "",
        "## compare",
        "",
        "`themescope compare` (and `themescope.corpus.compare.compare_runs`) reads the "
        "compare, train and themes sections of a config file (a study's defaults where they "
        "say nothing); its options:",
        "",
    ]
    lines += _command_table("compare")
    return "\n".join(lines) + "\n"


def _stage_table(config: type[Settings], command_flags: dict[str, set[str]]) -> list[str]:
    # Train's table shows, beside the fast preset's defaults, the paper preset's values.
    paper = TrainConfig.preset("paper").to_dict() if config is TrainConfig else None
    preset_column = " paper |" if paper is not None else ""
    lines = [
        f"| key | flag | type | default |{preset_column} allowed | category | help |",
        "|---|---|---|---|" + ("---|" if paper is not None else "") + "---|---|---|",
    ]
    defaults, fast = config.defaults(), config().to_dict()
    commands = tuple(
        command
        for command in command_flags
        if command == config.section or command in _ALL_STAGES_COMMANDS
    )
    for name, declaration in config.declarations().items():
        cells = [
            f"`{name}`",
            _flag_cell(declaration.flag, command_flags, commands),
            declaration.kind + (" or none" if declaration.optional else ""),
            _code(show(defaults[name])),
        ]
        if paper is not None:
            differs = paper[name] != fast[name]
            cells.append(_code(show(paper[name])) if differs else "")
        cells += [declaration.allowed(), declaration.category, _text(declaration.help)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _command_table(command: str) -> list[str]:
    # The settings' flags of a command that runs the stages are in the stages' tables.
    declared = {
        declaration.flag
        for config in _FLAGGED_CONFIGS
        for declaration in config.declarations().values()
        if command in _ALL_STAGES_COMMANDS and declaration.flag is not None
    }
    click_command = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    lines = ["| flag | default | help |", "|---|---|---|"]
    for param in click_command.params:
        if param.param_type_name != "option" or param.opts[0] in declared:
            continue
        default = "" if param.default is None else _code(show(param.default))
        lines.append(f"| {_code(', '.join(param.opts))} | {default} | {_text(param.help)} |")
    return lines


def _command_flags() -> dict[str, set[str]]:
    """Return each command's flags, by command name."""
    group = typer.main.get_command(app)
    return {
        name: {opt for param in command.params for opt in param.opts if opt.startswith("--")}
        for name, command in group.commands.items()  # type: ignore[attr-defined]
    }


def _flag_cell(
    flag: str | None, command_flags: dict[str, set[str]], commands: tuple[str, ...]
) -> str:
    if flag is None:
        return ""
    taking = [command for command in commands if flag in command_flags[command]]
    return f"`{flag}` ({', '.join(taking)})" if taking else ""


def _code(text: str) -> str:
    return f"`{text}`"


def _text(text: str | None) -> str:
    # A bar would end the table cell.
    return (text or "").replace("|", "\\|")


__all__ = ["STAGE_CONFIGS", "settings_reference"]
