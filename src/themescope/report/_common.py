r"""What the run report and the comparison page share: templates, escaping, formats, images.

Both pages are rendered from the same templates folder with the same Jinja
environment (autoescaping on), the same Content-Security-Policy and the same
thumbnail encoding; :mod:`themescope.report.render` and
:mod:`themescope.report.compare_page` import these and nothing private of each
other.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import math
from pathlib import Path
from typing import Any

from markupsafe import Markup

from themescope.errors import RunDirectoryError
from themescope.report import plots

logger = logging.getLogger("themescope")

TEMPLATE_DIR = Path(__file__).parent / "templates"
THUMB_WIDTH_PX = 160
"""Width of the embedded frame thumbnails; 160 px JPEGs keep a 400-frame report near 2 MB."""
THUMB_JPEG_QUALITY = 72


def json_for_script(data: Any) -> Markup:
    r"""Serialise ``data`` for a ``<script type="application/json">`` block.

    ``<``, ``>`` and ``&`` become ``\\u`` escapes, so no text (``</script>``,
    ``<!--``) can end the block or open a new element; JSON.parse restores them.
    """
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)


def content_security_policy(script: str) -> str:
    """Content-Security-Policy: no network at all; only this page's own inline script runs."""
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    return (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )


def read_asset(name: str) -> str:
    """Return the text of a file in the templates folder (a script or style sheet to inline)."""
    return (TEMPLATE_DIR / name).read_text(encoding="utf-8")


def jinja_environment() -> Any:
    """Return the Jinja environment of both pages: autoescaped, strict, with their filters."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["clock"] = clock
    env.filters["pct"] = fmt_pct
    env.filters["num"] = fmt_num
    env.filters["color"] = plots.theme_color
    return env


def clock(seconds: Any) -> str:
    """Format seconds as ``m:ss`` (or ``h:mm:ss``); ``—`` when unknown."""
    if not isinstance(seconds, int | float) or not math.isfinite(seconds):
        return "—"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def fmt_pct(value: Any, digits: int = 0) -> str:
    """Format a share as a percentage; ``—`` when unknown."""
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "—"
    return f"{value * 100:.{digits}f}%"


def fmt_num(value: Any, digits: int = 3) -> str:
    """Format a number with ``digits`` significant digits; ``—`` when unknown or not finite."""
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}" if math.isfinite(value) else "—"
    return str(value)


def fmt_setting(value: Any) -> str:
    """Show a config value compactly (JSON for lists and dicts, at most 300 characters)."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, float):
        text = fmt_num(value, 6)
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 300 else text[:297] + "..."


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """Read a JSON object from ``path``.

    Args:
        path: The JSON file.
        what: What to do when it is missing (ends the error message).

    Raises:
        RunDirectoryError: The file is missing, unreadable or not a JSON object.

    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunDirectoryError(f"{path} is missing; {what}") from None
    except (OSError, ValueError) as exc:
        raise RunDirectoryError(f"{path} is unreadable ({exc})") from exc
    if not isinstance(data, dict):
        raise RunDirectoryError(f"{path} does not hold a JSON object")
    return data


def thumbnail_data_uri(path: Path, width_px: int) -> str | None:
    """Return a JPEG thumbnail of ``path`` as a data URI, or None if it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            # draft() lets libjpeg decode at 1/2, 1/4 or 1/8 scale: far faster for thumbnails.
            image.draft("RGB", (width_px, max(1, width_px * image.height // max(image.width, 1))))
            rgb = image.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        logger.debug("cannot read %s: %s", path, exc)
        return None
    if rgb.width > width_px:
        height_px = max(1, round(rgb.height * width_px / rgb.width))
        rgb = rgb.resize((width_px, height_px), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    rgb.save(buffer, format="JPEG", quality=THUMB_JPEG_QUALITY, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def finite_float(value: Any) -> float | None:
    """Return ``value`` as a finite float, or None when it is not one."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


__all__ = [
    "TEMPLATE_DIR",
    "THUMB_JPEG_QUALITY",
    "THUMB_WIDTH_PX",
    "clock",
    "content_security_policy",
    "finite_float",
    "fmt_num",
    "fmt_pct",
    "fmt_setting",
    "jinja_environment",
    "json_for_script",
    "read_asset",
    "read_json_object",
    "thumbnail_data_uri",
]
