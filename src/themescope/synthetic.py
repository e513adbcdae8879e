"""Synthetic news videos with known themes, for tests, the demo and benchmarks.

:func:`generate_news_video` writes an H.264 MP4, matching SRT subtitles and a
``truth.csv`` that gives the ground-truth theme of every second. The video is a
sequence of segments (10–30 s by default); each segment shows one of ``n_themes``
themes, and consecutive segments always differ. Every theme has its own look
(a news studio with an anchor, a chart slide, an outdoor scene, a hospital ward,
a city street, a world map), redrawn with different colours and layout for every
segment and animated with moving elements and sensor-like noise, so that frames
of one theme are alike without being identical. Every theme also has its own
vocabulary in English and Chinese; subtitle cues of 2–4 s carry sentences of
8–15 words drawn from the theme's words and common filler words.

On screen, every segment (story) shows a headline made of its theme's words in a
lower-third band, and a channel bug ("TS NEWS", or "新闻台" in Chinese) stays in the
top-right corner for the whole video, as in broadcast news, so that on-screen text
reading can be tested end to end. Chinese is drawn with a CJK font found on the system
(:func:`find_cjk_font`, e.g. Noto Sans CJK from the fonts-noto-cjk package); without
one the headlines fall back to English words, with a warning. The truth CSV gives the
headline shown during every second.

A ``mixture`` gives each theme its share of the airtime instead: the plan meets it to
the nearest second, and neighbouring segments still differ wherever the shares allow.
:func:`generate_corpus` writes a corpus of several groups (countries, channels) whose
mixtures differ in a known way, by default group A (English) with half its airtime on
the economy and group B (Chinese) with a twentieth, both with 30 % on health, together
with a ``corpus.csv`` manifest and each group's true share of every theme.

Everything is deterministic for a seed. ``looks`` redraws the same stories with
other looks (theme 0 as a city street, say): two videos of one seed then carry the
same segments, subtitles and headlines under different pictures, so that only
their text can tell which themes are the same.

Example:
    >>> video = generate_news_video("demo", lang="en", duration_s=120, n_themes=4)  # doctest: +SKIP
    >>> truth = read_truth(video.truth_path)  # doctest: +SKIP
    >>> truth[:3]  # theme of seconds 0, 1, 2  # doctest: +SKIP
    array([2, 2, 2])
    >>> corpus = generate_corpus("study-data", n_per_group=6)  # doctest: +SKIP
    >>> corpus.shares["A"][1], corpus.shares["B"][1]  # economy, from the truth  # doctest: +SKIP
    (0.5, 0.05)

"""

from __future__ import annotations

import csv
import datetime
import logging
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from themescope import _progress
from themescope._config import check_seed
from themescope.errors import ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger("themescope")

MAX_THEMES = 6
MAX_WIDTH, MAX_HEIGHT = 3840, 2160
"""Largest frame (4K UHD): a frame is drawn in memory several times over while it is encoded."""

_THEME_NAMES = ("studio", "chart", "outdoor", "hospital", "city", "map")
_LOOKS = set(range(MAX_THEMES))

# One string of space-separated words per theme (split by _theme_words).
_WORDS_EN = (
    "election president congress vote senator campaign policy government debate minister "
    "parliament law bill leader party official announcement press conference statement",
    "market stocks inflation prices economy investors growth bank interest rates trade "
    "jobs unemployment dollar percent quarter profit shares exports budget",
    "weather storm rain forecast temperature wind sunshine clouds flood drought farmers "
    "crops river forest wildfire heat season climate snow coast",
    "vaccine hospital doctors patients nurses virus infection treatment clinic health "
    "dose symptoms medicine pandemic cases trial immunity booster testing care",
    "traffic city roads cars commuters subway transport bridge construction housing "
    "residents streets buses downtown drivers parking accident highway rent neighborhood",
    "international summit countries border embassy diplomats treaty sanctions allies "
    "refugees talks foreign united nations region conflict peace troops agreement envoy",
)

_WORDS_ZH = (
    "选举 总统 国会 投票 议员 竞选 政策 政府 辩论 部长 议会 法律 法案 领导人 政党 官员 "
    "宣布 记者会 声明 改革",
    "市场 股票 通胀 价格 经济 投资者 增长 银行 利率 贸易 就业 失业 美元 百分比 季度 利润 "
    "股份 出口 预算 消费",
    "天气 暴雨 降雨 预报 气温 大风 阳光 云层 洪水 干旱 农民 庄稼 河流 森林 山火 高温 "
    "季节 气候 降雪 海岸",
    "疫苗 医院 医生 病人 护士 病毒 感染 治疗 诊所 健康 剂量 症状 药物 疫情 病例 试验 "
    "免疫 加强针 检测 护理",
    "交通 城市 道路 汽车 通勤 地铁 运输 大桥 施工 住房 居民 街道 公交 市中心 司机 停车 "
    "事故 高速公路 房租 社区",
    "国际 峰会 国家 边境 大使馆 外交官 条约 制裁 盟友 难民 会谈 外国 联合国 地区 冲突 "
    "和平 军队 协议 特使 合作",
)

_FILLER_EN = (
    "the a of and to in on for with today this that is are was will have new more people "
    "says after week some many also about our reporter year"
)

_FILLER_ZH = (
    "今天 我们 这个 一个 他们 已经 表示 目前 进行 相关 方面 非常 新的 记者 报道 继续 可能 "
    "需要 问题 情况 工作 发展"
)


def _theme_words(theme: int, lang: str) -> list[str]:
    return (_WORDS_EN if lang == "en" else _WORDS_ZH)[theme].split(" ")


def _filler_words(lang: str) -> list[str]:
    return (_FILLER_EN if lang == "en" else _FILLER_ZH).split(" ")


@dataclass(frozen=True)
class SyntheticVideo:
    """What :func:`generate_news_video` wrote.

    Attributes:
        video_path: The H.264 MP4 (no audio).
        subtitles_path: SRT subtitles (UTF-8).
        truth_path: CSV with columns ``second,theme,headline``: the theme and the
            on-screen headline shown during ``[second, second + 1)`` for every second
            (theme -1 and no headline in a black opening).
        n_themes: Number of themes.
        lang: ``"en"`` or ``"zh"``.
        duration_s: Duration of the video in seconds.
        theme_words: The vocabulary of each theme (theme id -> words in ``lang``).
        channel_bug: The text of the channel bug shown in a corner of every frame.
        headlines: The ``(start_s, end_s, headline)`` of every segment, in order.

    """

    video_path: Path
    subtitles_path: Path
    truth_path: Path
    n_themes: int
    lang: str
    duration_s: float
    theme_words: dict[int, list[str]]
    channel_bug: str
    headlines: tuple[tuple[int, int, str], ...]


@dataclass(frozen=True)
class _Sprite:
    """A small RGBA picture moved across the frame by ``position(t)``."""

    rgb: np.ndarray  # (h, w, 3) uint8
    mask: np.ndarray  # (h, w, 1) bool
    position: Callable[[float], tuple[int, int]]  # time in segment (s) -> (x, y) of top-left


@dataclass(frozen=True)
class _Scene:
    background: np.ndarray  # (H, W, 3) uint8, kept away from 0/255 so noise never wraps
    sprites: list[_Sprite]


# -- drawing -----------------------------------------------------------------------------


def _jitter(rng: np.random.Generator, rgb: tuple[int, int, int], amount: int = 25) -> tuple:
    return tuple(int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in rgb)


def _gradient(w: int, h: int, top: tuple, bottom: tuple) -> Image.Image:
    ramp = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    arr = np.asarray(top, np.float32) * (1 - ramp) + np.asarray(bottom, np.float32) * ramp
    return Image.fromarray(np.repeat(arr, w, axis=1).astype(np.uint8))


def _sprite(
    w: int, h: int, draw: Callable[[ImageDraw.ImageDraw], None], position: Callable
) -> _Sprite:
    img = Image.new("RGBA", (max(1, w), max(1, h)), (0, 0, 0, 0))
    draw(ImageDraw.Draw(img))
    arr = np.asarray(img)
    return _Sprite(rgb=np.ascontiguousarray(arr[..., :3]), mask=arr[..., 3:] > 0, position=position)


def _scene_studio(rng: np.random.Generator, w: int, h: int) -> _Scene:
    img = _gradient(w, h, _jitter(rng, (20, 30, 80)), _jitter(rng, (5, 10, 40)))
    d = ImageDraw.Draw(img)
    # Backdrop screens behind the anchor.
    for i in range(int(rng.integers(2, 5))):
        x0 = int(w * (0.05 + 0.22 * i + rng.uniform(-0.03, 0.03)))
        d.rectangle(
            [x0, int(h * 0.12), x0 + int(w * 0.18), int(h * 0.45)],
            fill=_jitter(rng, (60, 110, 190), 40),
        )
    anchor_x = int(w * rng.uniform(0.3, 0.7))
    head_r = int(h * 0.09)
    suit = _jitter(rng, (30, 30, 35), 20)
    d.polygon(
        [
            (anchor_x - int(w * 0.13), int(h * 0.85)),
            (anchor_x - int(w * 0.07), int(h * 0.5)),
            (anchor_x + int(w * 0.07), int(h * 0.5)),
            (anchor_x + int(w * 0.13), int(h * 0.85)),
        ],
        fill=suit,
    )
    d.ellipse(
        [anchor_x - head_r, int(h * 0.3), anchor_x + head_r, int(h * 0.3) + 2 * head_r],
        fill=_jitter(rng, (200, 160, 130), 30),
    )
    d.rectangle([0, int(h * 0.72), w, int(h * 0.86)], fill=_jitter(rng, (120, 75, 40), 20))
    d.rectangle([0, int(h * 0.88), w, h], fill=_jitter(rng, (170, 20, 30), 20))
    band_y = int(h * 0.9)
    band_h = max(2, int(h * 0.06))
    text_w = int(w * 0.5)
    speed = float(rng.uniform(0.15, 0.3)) * w

    def ticker(draw: ImageDraw.ImageDraw) -> None:
        x = 0
        while x < text_w:
            bw = int(rng.integers(max(2, w // 60), max(3, w // 20)))
            draw.rectangle([x, 0, x + bw, band_h - 1], fill=(240, 240, 240, 255))
            x += bw + max(2, w // 80)

    sprites = [
        _sprite(text_w, band_h, ticker, lambda t: (int(w - (speed * t) % (w + text_w)), band_y))
    ]
    return _Scene(np.asarray(img), sprites)


def _scene_chart(rng: np.random.Generator, w: int, h: int) -> _Scene:
    img = Image.new("RGB", (w, h), _jitter(rng, (235, 235, 225), 15))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, w, int(h * 0.12)], fill=_jitter(rng, (20, 90, 60), 25))
    x_axis, y_axis = int(w * 0.1), int(h * 0.85)
    d.line([x_axis, int(h * 0.18), x_axis, y_axis], fill=(40, 40, 40), width=max(1, h // 150))
    d.line([x_axis, y_axis, int(w * 0.95), y_axis], fill=(40, 40, 40), width=max(1, h // 150))
    n_bars = int(rng.integers(4, 9))
    slot = (w * 0.83) / n_bars
    colour = _jitter(rng, (230, 120, 30), 30)
    for i in range(n_bars):
        top = int(y_axis - rng.uniform(0.15, 0.62) * h)
        x0 = int(x_axis + slot * i + slot * 0.2)
        d.rectangle([x0, top, int(x0 + slot * 0.6), y_axis - 1], fill=colour)
    marker_r = max(2, h // 40)
    period_s = float(rng.uniform(4.0, 7.0))

    def dot(draw: ImageDraw.ImageDraw) -> None:
        draw.ellipse([0, 0, 2 * marker_r, 2 * marker_r], fill=(20, 60, 200, 255))

    def path(t: float) -> tuple[int, int]:
        phase = (t / period_s) % 1.0
        x = int(x_axis + phase * w * 0.83)
        y = int(h * (0.5 + 0.25 * math.sin(2 * math.pi * phase * 2)))
        return x, y

    return _Scene(np.asarray(img), [_sprite(2 * marker_r + 1, 2 * marker_r + 1, dot, path)])


def _scene_outdoor(rng: np.random.Generator, w: int, h: int) -> _Scene:
    horizon = int(h * rng.uniform(0.5, 0.65))
    img = _gradient(w, h, _jitter(rng, (90, 150, 230)), _jitter(rng, (190, 220, 250)))
    d = ImageDraw.Draw(img)
    d.rectangle([0, horizon, w, h], fill=_jitter(rng, (60, 140, 50), 25))
    sun_r = int(h * 0.07)
    sun_x = int(w * rng.uniform(0.6, 0.9))
    d.ellipse(
        [sun_x - sun_r, int(h * 0.08), sun_x + sun_r, int(h * 0.08) + 2 * sun_r],
        fill=(250, 230, 90),
    )
    for _ in range(int(rng.integers(3, 8))):
        tx = int(w * rng.uniform(0.02, 0.98))
        th = int(h * rng.uniform(0.15, 0.3))
        d.rectangle(
            [tx - w // 150, horizon - th // 3, tx + w // 150, horizon + h // 30], fill=(90, 60, 30)
        )
        d.polygon(
            [
                (tx, horizon - th),
                (tx - th // 3, horizon - th // 4),
                (tx + th // 3, horizon - th // 4),
            ],
            fill=_jitter(rng, (20, 100, 40), 20),
        )
    cloud_w, cloud_h = int(w * 0.2), int(h * 0.1)
    speed = float(rng.uniform(0.03, 0.08)) * w
    cloud_y = int(h * rng.uniform(0.05, 0.25))

    def cloud(draw: ImageDraw.ImageDraw) -> None:
        for cx in (0.15, 0.4, 0.65):
            draw.ellipse(
                [int(cx * cloud_w) - cloud_h // 2, 0, int(cx * cloud_w) + cloud_h, cloud_h - 1],
                fill=(250, 250, 250, 255),
            )

    sprites = [
        _sprite(
            cloud_w, cloud_h, cloud, lambda t: (int((speed * t) % (w + cloud_w)) - cloud_w, cloud_y)
        )
    ]
    return _Scene(np.asarray(img), sprites)


def _scene_hospital(rng: np.random.Generator, w: int, h: int) -> _Scene:
    floor = int(h * 0.7)
    img = Image.new("RGB", (w, h), _jitter(rng, (200, 235, 235), 15))
    d = ImageDraw.Draw(img)
    d.rectangle([0, floor, w, h], fill=_jitter(rng, (150, 170, 170), 15))
    for x in range(0, w, max(4, w // 12)):
        d.line([x, floor, x, h], fill=(120, 140, 140), width=1)
    cx, cy, arm = int(w * rng.uniform(0.1, 0.3)), int(h * 0.25), int(h * 0.06)
    d.rectangle([cx - arm, cy - arm * 3, cx + arm, cy + arm * 3], fill=(210, 30, 40))
    d.rectangle([cx - arm * 3, cy - arm, cx + arm * 3, cy + arm], fill=(210, 30, 40))
    for _ in range(int(rng.integers(1, 3))):
        bx = int(w * rng.uniform(0.4, 0.75))
        d.rectangle([bx, int(h * 0.55), bx + int(w * 0.2), int(h * 0.68)], fill=(245, 245, 250))
        d.rectangle([bx, int(h * 0.5), bx + w // 60, int(h * 0.75)], fill=(130, 130, 140))
    person_w, person_h = int(w * 0.06), int(h * 0.45)
    speed = float(rng.uniform(0.05, 0.12)) * w

    def person(draw: ImageDraw.ImageDraw) -> None:
        draw.ellipse(
            [person_w // 4, 0, person_w * 3 // 4, person_w // 2], fill=(210, 170, 140, 255)
        )
        draw.rectangle([0, person_w // 2, person_w - 1, person_h - 1], fill=(250, 250, 255, 255))

    def walk(t: float) -> tuple[int, int]:
        span = w - person_w
        phase = (speed * t) % (2 * span)
        return int(phase if phase < span else 2 * span - phase), floor - person_h + h // 10

    return _Scene(np.asarray(img), [_sprite(person_w, person_h, person, walk)])


def _scene_city(rng: np.random.Generator, w: int, h: int) -> _Scene:
    road = int(h * 0.75)
    img = _gradient(w, h, _jitter(rng, (150, 150, 165)), _jitter(rng, (200, 190, 180)))
    d = ImageDraw.Draw(img)
    x = 0
    while x < w:
        bw = int(w * rng.uniform(0.08, 0.16))
        top = int(h * rng.uniform(0.1, 0.45))
        shade = int(rng.integers(70, 130))
        d.rectangle([x, top, x + bw, road], fill=(shade, shade, shade + 10))
        for wy in range(top + h // 40, road - h // 30, max(3, h // 18)):
            for wx in range(x + w // 160 + 1, x + bw - w // 80, max(3, w // 50)):
                d.rectangle([wx, wy, wx + w // 160, wy + h // 60], fill=(230, 220, 140))
        x += bw + int(rng.integers(1, max(2, w // 100)))
    d.rectangle([0, road, w, h], fill=(50, 50, 55))
    d.line([0, int(h * 0.87), w, int(h * 0.87)], fill=(230, 230, 230), width=max(1, h // 100))
    sprites = []
    for lane, direction in ((0.78, 1), (0.89, -1)):
        car_w, car_h = int(w * 0.1), int(h * 0.07)
        colour = (*(int(c) for c in rng.integers(40, 250, 3)), 255)
        speed = float(rng.uniform(0.1, 0.25)) * w

        def car(
            draw: ImageDraw.ImageDraw,
            colour: tuple = colour,
            car_w: int = car_w,
            car_h: int = car_h,
        ) -> None:
            draw.rectangle([0, car_h // 3, car_w - 1, car_h - 1], fill=colour)
            draw.rectangle([car_w // 4, 0, car_w * 3 // 4, car_h // 3], fill=colour)

        def drive(
            t: float,
            speed: float = speed,
            car_w: int = car_w,
            lane: float = lane,
            direction: int = direction,
        ) -> tuple[int, int]:
            x = (speed * t) % (w + car_w) - car_w
            return int(x if direction > 0 else w - x - car_w), int(h * lane)

        sprites.append(_sprite(car_w, car_h, car, drive))
    return _Scene(np.asarray(img), sprites)


def _scene_map(rng: np.random.Generator, w: int, h: int) -> _Scene:
    img = Image.new("RGB", (w, h), _jitter(rng, (30, 70, 140), 20))
    d = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(3, 6))):
        cx, cy = w * rng.uniform(0.1, 0.9), h * rng.uniform(0.15, 0.85)
        rx, ry = w * rng.uniform(0.06, 0.16), h * rng.uniform(0.08, 0.2)
        angles = np.linspace(0, 2 * np.pi, 14, endpoint=False)
        radii = rng.uniform(0.6, 1.0, angles.size)
        d.polygon(
            [
                (cx + rx * r * math.cos(a), cy + ry * r * math.sin(a))
                for a, r in zip(angles, radii, strict=True)
            ],
            fill=_jitter(rng, (110, 160, 80), 25),
        )
    for gx in range(0, w, max(4, w // 8)):
        d.line([gx, 0, gx, h], fill=(70, 110, 170), width=1)
    for gy in range(0, h, max(4, h // 5)):
        d.line([0, gy, w, gy], fill=(70, 110, 170), width=1)
    d.rectangle([0, 0, w, int(h * 0.08)], fill=(15, 25, 50))
    r = max(2, h // 30)
    ox, oy = w * rng.uniform(0.3, 0.7), h * rng.uniform(0.35, 0.65)
    radius_x, radius_y = w * 0.2, h * 0.2
    period_s = float(rng.uniform(5.0, 9.0))

    def pin(draw: ImageDraw.ImageDraw) -> None:
        draw.ellipse([0, 0, 2 * r, 2 * r], fill=(240, 40, 40, 255))

    def orbit(t: float) -> tuple[int, int]:
        a = 2 * math.pi * t / period_s
        return int(ox + radius_x * math.cos(a)), int(oy + radius_y * math.sin(a))

    return _Scene(np.asarray(img), [_sprite(2 * r + 1, 2 * r + 1, pin, orbit)])


_SCENES: tuple[Callable[[np.random.Generator, int, int], _Scene], ...] = (
    _scene_studio,
    _scene_chart,
    _scene_outdoor,
    _scene_hospital,
    _scene_city,
    _scene_map,
)


# -- on-screen text ------------------------------------------------------------------------

CHANNEL_BUG = {"en": "TS NEWS", "zh": "新闻台"}
"""The channel bug of each language: on screen for the whole video, in the top-right corner."""

# (background, text) colours of the headline band and of the channel bug.
_BAND = ((16, 32, 84), (250, 250, 250))
_BUG = ((190, 24, 36), (250, 250, 250))

_CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)
_LATIN_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
)
# Index of the Simplified Chinese face inside the Noto Sans CJK collection (JP, KR, SC, TC, HK);
# the other collections above hold one face or put Simplified Chinese first.
_NOTO_CJK_SC_INDEX = 2


def find_cjk_font() -> Path | None:
    """Return a font file on this system that draws Chinese, or None when there is none.

    Looks at the usual places of Noto Sans CJK (Debian/Ubuntu ``fonts-noto-cjk``,
    Fedora, Arch), WenQuanYi Micro Hei, and the system fonts of macOS and Windows.
    """
    for candidate in _CJK_FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    return None


def _font(path: Path | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if path is None:
        return ImageFont.load_default(size)
    index = _NOTO_CJK_SC_INDEX if path.name.startswith("NotoSansCJK") else 0
    return ImageFont.truetype(str(path), size, index=index)


def _text_fonts(lang: str) -> tuple[Path | None, bool]:
    """(font file for on-screen text, whether it draws Chinese)."""
    cjk = find_cjk_font()
    if cjk is not None:
        return cjk, True
    if lang == "zh":
        logger.warning(
            "no CJK font found (install fonts-noto-cjk); the synthetic video's on-screen "
            "headlines and channel bug are drawn in English"
        )
    latin = next((Path(p) for p in _LATIN_FONT_CANDIDATES if Path(p).is_file()), None)
    return latin, False


def _headline(rng: np.random.Generator, theme: int, lang: str) -> str:
    words = [str(w) for w in rng.choice(_theme_words(theme, lang), size=3, replace=False)]
    return " ".join(words).upper() if lang == "en" else "".join(words)


def _plan_headlines(
    rng: np.random.Generator, segments: list[tuple[int, int, int]], lang: str
) -> list[str]:
    """One headline per segment (story) from its theme's words; neighbours never repeat one."""
    headlines: list[str] = []
    for _, _, theme in segments:
        headline = _headline(rng, theme, lang)
        while headlines and headline == headlines[-1]:
            headline = _headline(rng, theme, lang)
        headlines.append(headline)
    return headlines


def _even(value: float) -> int:
    return 2 * round(value / 2)


def _caption_box(
    text: str,
    font_path: Path | None,
    size: int,
    box: tuple[int, int],
    colours: tuple[tuple[int, int, int], tuple[int, int, int]],
) -> np.ndarray:
    """An opaque (h, w, 3) box with ``text`` left-aligned, shrunk until it fits."""
    width, height = box
    font = _font(font_path, size)
    pad = max(1, height // 4)
    while size > 6 and font.getlength(text) > width - 2 * pad:
        size -= 1
        font = _font(font_path, size)
    img = Image.new("RGB", (width, height), colours[0])
    ImageDraw.Draw(img).text((pad, height // 2), text, font=font, fill=colours[1], anchor="lm")
    return np.asarray(img)


@dataclass(frozen=True)
class _Overlay:
    """A graphic pasted over the scene at a fixed place of the frame (no camera pan)."""

    planes: tuple[np.ndarray, np.ndarray, np.ndarray]  # Y (h, w), U and V (h/2, w/2)
    x: int
    y: int


def _to_overlay(rgb: np.ndarray, x: int, y: int) -> _Overlay:
    y_plane, u, v = _rgb_to_yuv(rgb)
    return _Overlay((y_plane, u[::2, ::2].copy(), v[::2, ::2].copy()), x, y)


def _lower_third(text: str, font_path: Path | None, w: int, h: int) -> _Overlay:
    # The band is a fixed size and colour for every story, so that only the words
    # differ between stories and the themes' looks stay as distinct as without it.
    x, y = _even(w * 0.04), _even(h * 0.74)
    box_w, box_h = max(2, _even(w - 2 * x)), max(2, _even(h * 0.1))
    rgb = _caption_box(text, font_path, max(6, round(box_h * 0.62)), (box_w, box_h), _BAND)
    return _to_overlay(rgb, x, y)


def _channel_bug(text: str, font_path: Path | None, w: int, h: int) -> _Overlay:
    box_w, box_h = max(2, _even(w * 0.16)), max(2, _even(h * 0.08))
    x, y = _even(w * 0.96 - box_w), _even(h * 0.04)
    rgb = _caption_box(text, font_path, max(6, round(box_h * 0.6)), (box_w, box_h), _BUG)
    return _to_overlay(rgb, x, y)


# -- composition ---------------------------------------------------------------------------


def _plan_segments(
    rng: np.random.Generator, n_seconds: int, n_themes: int, segment_s: tuple[int, int]
) -> list[tuple[int, int, int]]:
    """Cut the video into (start_s, end_s, theme) segments; neighbours differ."""
    segments: list[tuple[int, int, int]] = []
    usage = np.zeros(n_themes, dtype=np.int64)
    start, previous = 0, -1
    while start < n_seconds:
        length = int(rng.integers(segment_s[0], segment_s[1] + 1))
        end = min(n_seconds, start + length)
        # Prefer the least used themes so short videos still show every theme.
        candidates = [k for k in range(n_themes) if k != previous] or [0]
        least = min(usage[k] for k in candidates)
        theme = int(rng.choice([k for k in candidates if usage[k] == least]))
        usage[theme] += 1
        segments.append((start, end, theme))
        start, previous = end, theme
    return segments


def _apportion(shares: np.ndarray, total: int) -> np.ndarray:
    """Whole seconds per theme that add up to ``total``, nearest to ``shares`` of it.

    Largest remainder: every theme gets the floor of its exact seconds, and the seconds
    left over go to the largest fractions (ties to the lower theme id).
    """
    exact = shares / shares.sum() * total
    seconds = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - seconds), kind="stable")
    seconds[order[: total - int(seconds.sum())]] += 1
    return seconds


def _n_pieces(rng: np.random.Generator, seconds: int, segment_s: tuple[int, int]) -> int:
    """How many segments ``seconds`` of one theme are cut into, near the mean length."""
    if seconds == 0:
        return 0
    low, high = segment_s
    fewest, most = math.ceil(seconds / high), max(1, seconds // low)
    return int(np.clip(round(seconds / rng.uniform(low, high)), fewest, max(fewest, most)))


def _cut(
    rng: np.random.Generator, seconds: int, n_pieces: int, segment_s: tuple[int, int]
) -> list[int]:
    """Random lengths of ``n_pieces`` segments adding up to ``seconds``, within ``segment_s``.

    When no such split exists (too few seconds for the shortest segment, or too many
    for the longest), the pieces are as equal as whole seconds allow.
    """
    low, high = segment_s
    if not n_pieces * low <= seconds <= n_pieces * high:
        base, extra = divmod(seconds, n_pieces)
        return [base + (i < extra) for i in range(n_pieces)]
    lengths = np.full(n_pieces, low, dtype=np.int64)
    spare = seconds - n_pieces * low
    while spare > 0:
        room = high - lengths
        add = np.minimum(rng.multinomial(spare, room / room.sum()), room)
        lengths += add
        spare -= int(add.sum())
    return [int(n) for n in lengths]


def _can_follow(counts: np.ndarray, theme: int) -> bool:
    """Whether, after one segment of ``theme``, the rest can be ordered with neighbours apart.

    ``counts`` are the segments of each theme left after that one. With ``n`` left, the
    most common theme may fill at most every other place; and the next segment may not
    be ``theme``, so ``theme`` itself may fill at most half of them.
    """
    n_left = int(counts.sum())
    most = int(counts.max()) if n_left else 0
    return most <= n_left - most + 1 and 2 * int(counts[theme]) <= n_left


def _plan_mixture(
    rng: np.random.Generator, n_seconds: int, mixture: np.ndarray, segment_s: tuple[int, int]
) -> list[tuple[int, int, int]]:
    """Cut the video into (start_s, end_s, theme) segments whose airtime follows ``mixture``.

    Each theme gets its share of the seconds to the nearest second, in segments of
    ``segment_s``; the segments are then drawn in random order (a theme more likely the
    more of its segments are left) so that neighbours differ wherever the mixture allows.
    """
    seconds = _apportion(mixture, n_seconds)
    counts = np.array([_n_pieces(rng, int(s), segment_s) for s in seconds], dtype=np.int64)
    # A dominant theme in fewer, longer segments, so that the others can separate them.
    top = int(counts.argmax())
    counts[top] = max(
        min(counts[top], int(counts.sum() - counts[top]) + 1),
        math.ceil(int(seconds[top]) / segment_s[1]),
    )
    pieces = [_cut(rng, int(s), int(n), segment_s) for s, n in zip(seconds, counts, strict=True)]
    segments: list[tuple[int, int, int]] = []
    start, previous = 0, -1
    while counts.sum():
        themes = [k for k in range(len(counts)) if counts[k] and k != previous]
        fits = []
        for k in themes:
            counts[k] -= 1
            if _can_follow(counts, k):
                fits.append(k)
            counts[k] += 1
        # Where no order keeps neighbours apart, a theme follows itself (a second story).
        choices = np.array(fits or themes or [previous])
        theme = int(rng.choice(choices, p=counts[choices] / counts[choices].sum()))
        counts[theme] -= 1
        length = pieces[theme].pop()
        segments.append((start, start + length, theme))
        start, previous = start + length, theme
    return segments


def theme_shares(truth: np.ndarray, n_themes: int) -> np.ndarray:
    """Share of airtime in each theme: array of shape (n_themes,) from a per-second truth.

    Example:
        >>> theme_shares(np.array([1, 1, 0, 1]), 3).tolist()
        [0.25, 0.75, 0.0]

    """
    return np.bincount(truth, minlength=n_themes)[:n_themes] / max(1, truth.size)


def _sentence(rng: np.random.Generator, theme: int, lang: str) -> str:
    n_words = int(rng.integers(8, 16))
    theme_words = _theme_words(theme, lang)
    filler = _filler_words(lang)
    words = [
        str(rng.choice(theme_words)) if rng.random() < 0.55 else str(rng.choice(filler))
        for _ in range(n_words)
    ]
    if lang == "en":
        return " ".join(words).capitalize() + "."
    cut = n_words // 2
    return "".join(words[:cut]) + "，" + "".join(words[cut:]) + "。"


def _plan_cues(
    rng: np.random.Generator, segments: list[tuple[int, int, int]], lang: str
) -> list[tuple[float, float, str]]:
    """Make (start_s, end_s, text) cues of 2–4 s that never straddle two segments."""
    cues: list[tuple[float, float, str]] = []
    for seg_start, seg_end, theme in segments:
        t = float(seg_start)
        while seg_end - t >= 1.0:
            length = float(rng.uniform(2.0, 4.0))
            end = seg_end if seg_end - (t + length) < 1.0 else t + length
            # A short pause between cues, as in real subtitles.
            shown_end = max(t + 0.5, end - float(rng.uniform(0.0, 0.3)))
            cues.append((round(t, 3), round(shown_end, 3), _sentence(rng, theme, lang)))
            t = end
    return cues


def _srt_time(t: float) -> str:
    ms = round(t * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def _write_srt(path: Path, cues: list[tuple[float, float, str]]) -> None:
    blocks = [
        f"{i}\n{_srt_time(start)} --> {_srt_time(end)}\n{text}\n"
        for i, (start, end, text) in enumerate(cues, start=1)
    ]
    path.write_text("\n".join(blocks), encoding="utf-8")


def _rgb_to_yuv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.601 limited-range Y, U, V (full resolution) of an RGB array, as swscale makes them."""
    r, g, b = (rgb[..., c].astype(np.float32) / 255.0 for c in range(3))
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    u = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    v = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    return tuple(np.clip(np.rint(p), 0, 255).astype(np.uint8) for p in (y, u, v))


@dataclass(frozen=True)
class _YuvScene:
    """A scene converted once to YUV 4:2:0 planes, so frames never go through RGB."""

    planes: tuple[np.ndarray, np.ndarray, np.ndarray]  # Y (H, W), U and V (H/2, W/2)
    sprites: list[tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray, np.ndarray, Any]]


def _to_yuv_scene(scene: _Scene, noise: int) -> _YuvScene:
    y, u, v = _rgb_to_yuv(scene.background)
    # Luma kept in [16 + noise, 235 - noise] so that adding noise by uint8 wrap-around never wraps.
    y = np.clip(y, 16 + noise, 235 - noise).astype(np.uint8)
    sprites = []
    for sprite in scene.sprites:
        sy, su, sv = _rgb_to_yuv(sprite.rgb)
        mask = sprite.mask[..., 0]
        sprites.append(((sy, su[::2, ::2], sv[::2, ::2]), mask, mask[::2, ::2], sprite.position))
    return _YuvScene((y, u[::2, ::2].copy(), v[::2, ::2].copy()), sprites)


def _paste_plane(plane: np.ndarray, src: np.ndarray, mask: np.ndarray, x: int, y: int) -> None:
    h, w = plane.shape
    sh, sw = src.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(w, x + sw), min(h, y + sh)
    if x0 >= x1 or y0 >= y1:
        return
    np.copyto(
        plane[y0:y1, x0:x1],
        src[y0 - y : y1 - y, x0 - x : x1 - x],
        where=mask[y0 - y : y1 - y, x0 - x : x1 - x],
    )


def _paste_overlay(planes: tuple[np.ndarray, np.ndarray, np.ndarray], overlay: _Overlay) -> None:
    for c, src in enumerate(overlay.planes):
        scale = 1 if c == 0 else 2
        x, y = overlay.x // scale, overlay.y // scale
        target = planes[c][y : y + src.shape[0], x : x + src.shape[1]]
        target[...] = src[: target.shape[0], : target.shape[1]]


def _validate(
    lang: str,
    duration_s: float,
    n_themes: int,
    width: int,
    height: int,
    fps: float,
    keyframe_every_s: float,
    segment_s: tuple[int, int],
    mixture: Sequence[float] | None,
    looks: Sequence[int],
) -> None:
    if lang not in ("en", "zh"):
        raise ConfigError(f"lang must be 'en' or 'zh'; got {lang!r}")
    if not 1 <= n_themes <= MAX_THEMES:
        raise ConfigError(f"n_themes must be between 1 and {MAX_THEMES}; got {n_themes}")
    if not duration_s >= 2:
        raise ConfigError(f"duration_s must be at least 2 seconds; got {duration_s}")
    if not (16 <= width <= MAX_WIDTH and 16 <= height <= MAX_HEIGHT) or width % 2 or height % 2:
        raise ConfigError(
            f"width and height must be even, >= 16 and at most {MAX_WIDTH}x{MAX_HEIGHT}; "
            f"got {width}x{height}"
        )
    if not 1 <= fps <= 120:
        raise ConfigError(f"fps must be between 1 and 120; got {fps}")
    if not keyframe_every_s > 0:
        raise ConfigError(f"keyframe_every_s must be positive; got {keyframe_every_s}")
    if not 1 <= segment_s[0] <= segment_s[1]:
        raise ConfigError(f"segment_s must be (min, max) with 1 <= min <= max; got {segment_s}")
    if mixture is not None:
        shares = np.asarray(mixture, dtype=np.float64)
        if shares.shape != (n_themes,):
            raise ConfigError(
                f"mixture must give one share per theme ({n_themes}); got {len(shares)}"
            )
        if not (np.all(np.isfinite(shares)) and np.all(shares >= 0) and shares.sum() > 0):
            raise ConfigError(
                f"mixture shares must be >= 0 and not all 0; got {[float(x) for x in shares]}"
            )
    if len(looks) != n_themes or len(set(looks)) != n_themes or not set(looks) <= _LOOKS:
        raise ConfigError(
            f"looks must give {n_themes} different looks in 0..{MAX_THEMES - 1}, one per "
            f"theme; got {list(looks)}"
        )


def generate_news_video(
    out_dir: str | os.PathLike[str],
    *,
    lang: str = "en",
    duration_s: float = 120.0,
    n_themes: int = 4,
    seed: int = 0,
    width: int = 640,
    height: int = 360,
    fps: int = 10,
    keyframe_every_s: float = 2.0,
    segment_s: tuple[int, int] = (10, 30),
    noise: int = 3,
    preset: str = "veryfast",
    name: str | None = None,
    mixture: Sequence[float] | None = None,
    black_opening_s: int = 0,
    looks: Sequence[int] | None = None,
) -> SyntheticVideo:
    """Write a synthetic news video with ``n_themes`` known themes, its subtitles and truth.

    Args:
        out_dir: Folder to write into (created if missing).
        lang: Subtitle language, ``"en"`` or ``"zh"`` (UTF-8 Chinese).
        duration_s: Video length in seconds (whole seconds are used).
        n_themes: Number of distinct themes, 1 to :data:`MAX_THEMES`.
        seed: Seed of every random choice (layout, colours, segments, sentences, noise).
        width: Frame width in pixels (even).
        height: Frame height in pixels (even).
        fps: Frame rate (constant).
        keyframe_every_s: Distance between keyframes (the encoder's GOP, scene cuts off).
        segment_s: Shortest and longest segment in whole seconds.
        noise: Amplitude of the per-pixel noise (0 for none).
        preset: libx264 preset (``"ultrafast"`` writes fastest, larger files).
        name: Base name of the files; defaults to ``news_<lang>``.
        mixture: Share of airtime of each theme (``n_themes`` values >= 0, scaled to add
            up to 1), met to the nearest second; themes of share 0 do not appear. By
            default segments take turns so that every theme appears about equally.
        black_opening_s: Whole seconds of black (no text, no subtitles) before the first
            segment, as broadcast clips open; theme -1 in the truth. 0 leaves every
            other output as it was.
        looks: The look each theme is drawn with, one of ``0..MAX_THEMES - 1`` per
            theme (studio, chart, outdoor, hospital, city, map); None: theme k has look
            k. Segments, subtitles and headlines do not depend on it.

    Returns:
        The paths written and the themes' vocabularies.

    Raises:
        ConfigError: An argument is out of range.

    Example:
        >>> video = generate_news_video("demo", lang="zh", duration_s=60, seed=1)  # doctest: +SKIP
        >>> video.video_path.name  # doctest: +SKIP
        'news_zh.mp4'

    """
    import av

    looks = list(range(n_themes)) if looks is None else [int(k) for k in looks]
    check_seed(seed, "seed")
    _validate(
        lang, duration_s, n_themes, width, height, fps, keyframe_every_s, segment_s, mixture, looks
    )
    if not 0 <= black_opening_s <= math.floor(duration_s) - 1:
        raise ConfigError(
            f"black_opening_s must be between 0 and {math.floor(duration_s) - 1} (the video "
            f"needs a second of programme); got {black_opening_s}"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = name or f"news_{lang}"
    video_path, srt_path, truth_path = (
        out / f"{stem}.mp4",
        out / f"{stem}.srt",
        out / f"{stem}.truth.csv",
    )
    rng = np.random.default_rng(seed)
    n_seconds = math.floor(duration_s)
    programme_s = n_seconds - black_opening_s
    if mixture is None:
        planned = _plan_segments(rng, programme_s, n_themes, segment_s)
    else:
        planned = _plan_mixture(rng, programme_s, np.asarray(mixture, np.float64), segment_s)
    segments = [(start + black_opening_s, end + black_opening_s, t) for start, end, t in planned]
    cues = _plan_cues(rng, segments, lang)
    scene_rng = np.random.default_rng([seed, 1])
    # Scenes are drawn larger than the frame and the camera pans slowly across them,
    # so that frames of one segment differ by more than the moving elements.
    pad_x, pad_y = 2 * round(width * 0.06), 2 * round(height * 0.06)
    scenes = [
        _to_yuv_scene(_SCENES[looks[theme]](scene_rng, width + pad_x, height + pad_y), noise)
        for _, _, theme in segments
    ]
    pans = [
        (float(scene_rng.uniform(6.0, 14.0)), float(scene_rng.uniform(0, 2 * math.pi)))
        for _ in segments
    ]
    noise_bank = [
        # Signed luma noise added by uint8 wrap-around, in one pass.
        scene_rng.integers(-noise, noise + 1, (height, width)).astype(np.int8).view(np.uint8)
        for _ in range(5 if noise > 0 else 0)
    ]
    # Headlines come from their own random stream, so that scenes and subtitles stay as
    # they were before the video had on-screen text.
    font_path, draws_cjk = _text_fonts(lang)
    text_lang = lang if draws_cjk else "en"
    headlines = _plan_headlines(np.random.default_rng([seed, 2]), segments, text_lang)
    bug = _channel_bug(CHANNEL_BUG[text_lang], font_path, width, height)
    bands = [_lower_third(text, font_path, width, height) for text in headlines]

    n_frames = n_seconds * fps
    gop = max(1, round(keyframe_every_s * fps))
    tmp_video = video_path.with_name(f".{video_path.name}.partial")
    logger.info(
        "writing %d s synthetic video (%dx%d, %d fps) to %s",
        n_seconds,
        width,
        height,
        fps,
        video_path,
    )
    with av.open(str(tmp_video), mode="w", format="mp4") as container:
        stream = container.add_stream(
            "libx264" if "libx264" in av.codecs_available else "h264", rate=fps
        )
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = gop
        # Fixed keyframe spacing (no scene-cut keyframes) so benchmarks know the GOP.
        stream.codec_context.options = {
            "preset": preset,
            "keyint_min": str(gop),
            "sc_threshold": "0",
            "crf": "23",
        }
        segment_index = 0
        # One I420 buffer (Y, then U, then V) reused for every frame.
        buffer = np.empty(width * height * 3 // 2, np.uint8)
        n_luma, n_chroma = width * height, width * height // 4
        out_planes = (
            buffer[:n_luma].reshape(height, width),
            buffer[n_luma : n_luma + n_chroma].reshape(height // 2, width // 2),
            buffer[n_luma + n_chroma :].reshape(height // 2, width // 2),
        )
        for i in _progress.track(range(n_frames), "encoding synthetic video", n_frames):
            t = i / fps
            if t < black_opening_s:
                # Video black: luma 16, neutral chroma (decodes to RGB 0).
                buffer[:n_luma], buffer[n_luma:] = 16, 128
                _mux_i420(container, stream, buffer, width, height, i)
                continue
            while segments[segment_index][1] <= t:
                segment_index += 1
            seg_start, _, _ = segments[segment_index]
            scene = scenes[segment_index]
            period_s, phase = pans[segment_index]
            angle = 2 * math.pi * (t - seg_start) / period_s + phase
            # Even offsets keep the chroma planes aligned with luma.
            ox = 2 * round(pad_x * 0.25 * (1 + math.sin(angle)))
            oy = 2 * round(pad_y * 0.25 * (1 + math.cos(angle)))
            y_src = scene.planes[0][oy : oy + height, ox : ox + width]
            if noise_bank:
                np.add(y_src, noise_bank[i % len(noise_bank)], out=out_planes[0])
            else:
                np.copyto(out_planes[0], y_src)
            for c in (1, 2):
                np.copyto(
                    out_planes[c],
                    scene.planes[c][
                        oy // 2 : oy // 2 + height // 2, ox // 2 : ox // 2 + width // 2
                    ],
                )
            for sprite_planes, mask, mask_half, position in scene.sprites:
                x, y = position(t - seg_start)
                x, y = x - x % 2, y - y % 2
                _paste_plane(out_planes[0], sprite_planes[0], mask, x, y)
                _paste_plane(out_planes[1], sprite_planes[1], mask_half, x // 2, y // 2)
                _paste_plane(out_planes[2], sprite_planes[2], mask_half, x // 2, y // 2)
            for overlay in (bands[segment_index], bug):
                _paste_overlay(out_planes, overlay)
            _mux_i420(container, stream, buffer, width, height, i)
        container.mux(stream.encode(None))
    os.replace(tmp_video, video_path)

    _write_srt(srt_path, cues)
    with truth_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["second", "theme", "headline"])
        for second in range(black_opening_s):
            writer.writerow([second, -1, ""])
        for (seg_start, seg_end, theme), headline in zip(segments, headlines, strict=True):
            for second in range(seg_start, seg_end):
                writer.writerow([second, theme, headline])
    return SyntheticVideo(
        video_path=video_path,
        subtitles_path=srt_path,
        truth_path=truth_path,
        n_themes=n_themes,
        lang=lang,
        duration_s=float(n_seconds),
        theme_words={k: _theme_words(k, lang) for k in range(n_themes)},
        channel_bug=CHANNEL_BUG[text_lang],
        headlines=tuple(
            (start, end, text) for (start, end, _), text in zip(segments, headlines, strict=True)
        ),
    )


def _mux_i420(
    container: Any, stream: Any, buffer: np.ndarray, width: int, height: int, i: int
) -> None:
    """Encode one I420 frame (Y, then U, then V in ``buffer``) as frame ``i``."""
    import av

    frame = av.VideoFrame.from_ndarray(buffer.reshape(height * 3 // 2, width), format="yuv420p")
    frame.pts = i
    container.mux(stream.encode(frame))


LANGUAGE_PAIR_MIXTURES = {"en": (1.0, 1.0, 1.0, 0.0), "zh": (0.0, 1.0, 1.0, 1.0)}
"""The stories of :func:`generate_language_pair`'s videos: 0-2 in English, 1-3 in Chinese."""


def generate_language_pair(
    out_dir: str | os.PathLike[str], **video: Any
) -> dict[str, SyntheticVideo]:
    """Write an English and a Chinese news video that share stories 1 and 2 of four.

    The English video (seed 0, in ``out_dir/video-en``) tells stories 0-2, the Chinese
    one (seed 1, in ``out_dir/video-zh``) stories 1-3: what a joint comparison of the
    two must find shared (1 and 2) and each side's own (0 and 3).

    Args:
        out_dir: Folder to write the two videos' folders into.
        **video: Further arguments of :func:`generate_news_video` (size, duration).

    Example:
        >>> pair = generate_language_pair("pair", duration_s=60)  # doctest: +SKIP
        >>> read_truth(pair["zh"].truth_path).min()  # doctest: +SKIP
        1
    """
    return {
        lang: generate_news_video(
            Path(out_dir) / f"video-{lang}",
            lang=lang,
            n_themes=4,
            seed=seed,
            mixture=mixture,
            **video,
        )
        for seed, (lang, mixture) in enumerate(LANGUAGE_PAIR_MIXTURES.items())
    }


def read_headlines(path: str | os.PathLike[str]) -> list[str]:
    """Read the on-screen headline of every second from a ``truth.csv``, in order of seconds.

    Example:
        >>> read_headlines("demo/news_en.truth.csv")[10]  # doctest: +SKIP
        'MARKET STOCKS INFLATION'

    """
    with Path(path).open(newline="", encoding="utf-8") as fh:
        rows = sorted((int(r["second"]), r["headline"]) for r in csv.DictReader(fh))
    return [headline for _, headline in rows]


def text_frames_table(
    requested_s: Sequence[float] | np.ndarray,
    time_s: Sequence[float] | np.ndarray,
    texts: Sequence[str],
    lang: str = "en",
) -> pa.Table:
    """Return the ``frames.parquet`` table of an ingest whose frames carry given texts.

    Frame ``i``, requested at ``requested_s[i]`` and taken at ``time_s[i]``, is the
    image ``frames/{i:06d}.jpg`` (not written here) with ``texts[i]``, from cue ``i``:
    the ingest's table for tests and benchmarks that fake an ingest of known text.

    Example:
        >>> text_frames_table([0.0, 2.0], [0.0, 2.0], ["a.", "b."]).num_rows
        2
    """
    import pyarrow as pa

    n = len(texts)
    return pa.table(
        {
            "frame_id": pa.array(np.arange(n), pa.int64()),
            "requested_s": pa.array(np.asarray(requested_s, dtype=np.float64)),
            "time_s": pa.array(np.asarray(time_s, dtype=np.float64)),
            "image": [f"frames/{i:06d}.jpg" for i in range(n)],
            "text": list(texts),
            "text_raw": list(texts),
            "cue_ids": pa.array([[i] for i in range(n)], pa.list_(pa.int64())),
            "lang": [lang] * n,
        }
    )


def read_truth(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a ``truth.csv``: array of shape (n_seconds,), the theme id of each second.

    Example:
        >>> read_truth("demo/news_en.truth.csv")[10]  # doctest: +SKIP
        3

    """
    with Path(path).open(newline="", encoding="utf-8") as fh:
        rows = [(int(r["second"]), int(r["theme"])) for r in csv.DictReader(fh)]
    truth = np.full(len(rows), -1, dtype=np.int64)
    for second, theme in rows:
        if not 0 <= second < len(rows):
            raise ValueError(f"{path}: second {second} outside 0..{len(rows) - 1}")
        truth[second] = theme
    return truth


# -- corpora of several groups ---------------------------------------------------------------

THEME_TOPICS = ("politics", "economy", "weather", "health", "city", "international")
"""What each theme id is about (its words), as :func:`generate_corpus` names the themes."""

#: How closely a corpus video's mixture follows its group's: the concentration of the
#: Dirichlet distribution it is drawn from (a share of 0.5 varies by about 5 points,
#: one of 0.05 by about 2).
VIDEO_MIXTURE_CONCENTRATION = 100.0

# Arguments of generate_news_video that generate_corpus sets for every video itself.
_CORPUS_SETS = ("lang", "n_themes", "seed", "mixture", "name")


@dataclass(frozen=True)
class SyntheticGroup:
    """A group of a synthetic corpus (a country, a channel) and how it divides its airtime.

    Attributes:
        name: The group's name, also its folder (letters, digits, ``_``, ``-``, ``.``).
        lang: Language of its videos' subtitles, ``"en"`` or ``"zh"``.
        mixture: Target share of airtime of each theme id (adds up to 1).

    Example:
        >>> SyntheticGroup("C", "en", (0.5, 0.5)).mixture
        (0.5, 0.5)

    """

    name: str
    lang: str
    mixture: tuple[float, ...]


DEFAULT_GROUPS = (
    # Group A spends half its airtime on the economy, group B a twentieth; both give
    # health 30 % and spread the rest evenly over the four other themes.
    SyntheticGroup("A", "en", (0.05, 0.50, 0.05, 0.30, 0.05, 0.05)),
    SyntheticGroup("B", "zh", (0.1625, 0.05, 0.1625, 0.30, 0.1625, 0.1625)),
)
"""The groups :func:`generate_corpus` writes by default: a known difference in economy
(theme 1: 50 % against 5 %) and none in health (theme 3: 30 % in both), in two languages."""


@dataclass(frozen=True)
class SyntheticTrend:
    """A theme whose share rises (or falls) over time in one group of a synthetic corpus.

    The share moves in a straight line over the group's videos, in date order, by ``rise``
    from the first to the last, centred on the group's mixture (so the group's airtime
    stays on target); the other themes give or take in proportion to their shares.

    Attributes:
        group: The group's name.
        theme: The theme id.
        rise: Change of the share from the first video to the last (0.2: 20 points).
    """

    group: str
    theme: int
    rise: float


@dataclass(frozen=True)
class SyntheticCovariate:
    """A categorical metadata column of a synthetic corpus with a known effect on one theme.

    The videos of every group take the levels in turn; a video of the second level gives
    the theme ``effect`` more of its airtime than one of the first (centred on the
    group's mixture, the other themes giving in proportion).

    Attributes:
        name: The manifest column.
        levels: The first is the reference (sorted first too, as the study takes it).
        theme: The theme id.
        effect: Difference in the share between the levels (0.1: 10 points).
    """

    name: str
    levels: tuple[str, str]
    theme: int
    effect: float


DEFAULT_TREND = SyntheticTrend(group="A", theme=3, rise=0.2)
"""Health (theme 3) rises from 20 % to 40 % over group A's videos (B stays at 30 %)."""
DEFAULT_COVARIATE = SyntheticCovariate(
    name="outlet_type", levels=("commercial", "state"), theme=1, effect=0.08
)
"""State outlets give the economy (theme 1) 8 points more airtime than commercial ones."""


@dataclass(frozen=True)
class SyntheticCorpusVideo:
    """One video of a synthetic corpus.

    Attributes:
        group: Its group's name.
        video: The files written and their vocabularies.
        seed: The seed it was generated with (also in the manifest's ``seed`` column).
        mixture: The target share of each theme for this video (its group's, varied).
        shares: The share of each theme in the video, from its truth.
        date: Its date (the manifest's ``date`` column).
        metadata: Its value of the corpus's covariate, by column name (empty without one).

    """

    group: str
    video: SyntheticVideo
    seed: int
    mixture: tuple[float, ...]
    shares: tuple[float, ...]
    date: datetime.date
    metadata: dict[str, str]


@dataclass(frozen=True)
class SyntheticCorpus:
    """What :func:`generate_corpus` wrote.

    Attributes:
        manifest_path: ``corpus.csv``: columns ``video,subtitles,group,lang,seed,truth,date``
            and the covariate's (paths relative to its folder), one row per video, as
            :func:`themescope.corpus.spec.read_corpus` reads it.
        shares_path: ``truth_shares.csv``: columns ``group,theme,name,share,target``, the
            airtime share of every theme in every group, from the videos' truth, and the
            group's target.
        videos: Every video, group by group.
        groups: The groups asked for.
        shares: Each group's true airtime share of each theme id (from the truth; shares
            of one group add up to 1).
        theme_names: What each theme id is about (:data:`THEME_TOPICS`).

    """

    manifest_path: Path
    shares_path: Path
    videos: tuple[SyntheticCorpusVideo, ...]
    groups: tuple[SyntheticGroup, ...]
    shares: dict[str, tuple[float, ...]]
    theme_names: tuple[str, ...]


def _validate_groups(groups: Sequence[SyntheticGroup], n_per_group: int, kwargs: dict) -> None:
    if not groups:
        raise ConfigError("groups must name at least one group")
    if n_per_group < 1:
        raise ConfigError(f"n_per_group must be at least 1; got {n_per_group}")
    taken = sorted(set(_CORPUS_SETS) & set(kwargs))
    if taken:
        raise ConfigError(
            f"generate_corpus sets {', '.join(_CORPUS_SETS)} of every video itself; "
            f"got {', '.join(taken)}"
        )
    seen: dict[str, str] = {}
    for group in groups:
        if not re.fullmatch(r"\w[\w.-]*", group.name):
            raise ConfigError(
                f"group name {group.name!r} must be letters, digits, '_', '-' or '.' "
                "(it names a folder)"
            )
        # Some file systems ignore case: two such groups would share one folder.
        key = group.name.casefold()
        if key in seen:
            raise ConfigError(f"groups {seen[key]!r} and {group.name!r} have the same name")
        seen[key] = group.name
        if len(group.mixture) != len(groups[0].mixture):
            raise ConfigError(
                f"every group's mixture must have as many themes as the first "
                f"({len(groups[0].mixture)}); group {group.name!r} has {len(group.mixture)}"
            )


def _video_mixtures(rng: np.random.Generator, target: np.ndarray, n_videos: int) -> np.ndarray:
    """Mixtures of shape (n_videos, n_themes) around ``target`` whose mean is ``target``'s.

    ``target`` is one mixture for every video, or one per video (n_videos, n_themes).
    Each video's is drawn from a Dirichlet distribution about its target; the draws'
    departures from their targets are then moved so that they average 0 (shrunk, if need
    be, so that no share falls below 0), which keeps the group's airtime on target however
    few videos it has.
    """
    targets = np.broadcast_to(
        target / target.sum(axis=-1, keepdims=True), (n_videos, target.shape[-1])
    )
    draws = np.zeros_like(targets)
    for draw, row in zip(draws, targets, strict=True):
        present = row > 0
        draw[present] = rng.dirichlet(row[present] * VIDEO_MIXTURE_CONCENTRATION)
    deviation = (draws - targets) - (draws - targets).mean(axis=0)
    # The longest step from the targets towards the draws that keeps every share >= 0.
    room = np.divide(targets, -deviation, out=np.full_like(deviation, np.inf), where=deviation < 0)
    scale = min(1.0, float(room.min()))
    return np.clip(targets + scale * deviation, 0.0, None)


def _moved(mixture: np.ndarray, theme: int, shift: np.ndarray) -> np.ndarray:
    """Changes (len(shift), n_themes) that move ``theme`` by each shift, the rest in proportion.

    Linear in ``shift`` and each row sums to 0, so changes add up and centred shifts keep
    the mean mixture.
    """
    others = mixture.copy()
    others[theme] = 0.0
    rest = others.sum()
    change = -np.outer(shift, others / rest if rest else others)
    change[:, theme] += shift
    return change


def _video_targets(
    group: SyntheticGroup,
    n_videos: int,
    trend: SyntheticTrend | None,
    covariate: SyntheticCovariate | None,
) -> np.ndarray:
    """Each video's target mixture (n_videos, n_themes): the group's, moved as told."""
    mixture = np.asarray(group.mixture, np.float64) / sum(group.mixture)
    targets = np.tile(mixture, (n_videos, 1))
    steps = np.arange(n_videos, dtype=np.float64)
    if trend is not None and trend.group == group.name and n_videos > 1:
        targets += _moved(mixture, trend.theme, trend.rise * (steps / (n_videos - 1) - 0.5))
    if covariate is not None:
        second = steps % 2
        # Centred, so that the group's mean stays its mixture however many videos it has.
        targets += _moved(mixture, covariate.theme, covariate.effect * (second - second.mean()))
    if targets.min() < -1e-9:
        raise ConfigError(
            f"the trend or covariate effect takes group {group.name!r}'s share of a theme "
            "below 0; make it smaller"
        )
    return np.clip(targets, 0.0, None)


def generate_corpus(
    out_dir: str | os.PathLike[str],
    *,
    groups: Sequence[SyntheticGroup] | None = None,
    n_per_group: int = 6,
    duration_s: float = 240.0,
    seed: int = 0,
    start_date: datetime.date = datetime.date(2024, 1, 1),
    days_apart: int = 7,
    trend: SyntheticTrend | None = None,
    covariate: SyntheticCovariate | None = None,
    **video_kwargs: Any,
) -> SyntheticCorpus:
    """Write a corpus of synthetic news videos whose theme mixture differs by group.

    Every group gets ``n_per_group`` videos in its language under ``out_dir/<group>/``
    (``news_01.mp4`` with ``.srt`` and ``.truth.csv``, as :func:`generate_news_video`
    writes them). Each video's mixture varies around its group's (see
    :data:`VIDEO_MIXTURE_CONCENTRATION`) while the group's mean stays on target; the
    shares reported are those of the truth, which meet the target to within the rounding
    to whole seconds. ``out_dir/corpus.csv`` lists the videos and
    ``out_dir/truth_shares.csv`` gives each group's airtime share of each theme.

    Args:
        out_dir: Folder to write into (created if missing).
        groups: The groups; :data:`DEFAULT_GROUPS` (A: English, economy 50 %; B: Chinese,
            economy 5 %; health 30 % in both) by default.
        n_per_group: Videos per group.
        duration_s: Length of every video in seconds.
        seed: Seed of every random choice (each video's seed is derived from it).
        start_date: Date of every group's first video (the manifest's ``date`` column).
        days_apart: Days between a group's consecutive videos.
        trend: A theme rising over time in one group (e.g. :data:`DEFAULT_TREND`).
        covariate: A metadata column with a known effect (e.g. :data:`DEFAULT_COVARIATE`).
        **video_kwargs: Passed on to :func:`generate_news_video` (``width``, ``fps``,
            ``segment_s``, ``preset``...); not ``lang``, ``n_themes``, ``seed``, ``mixture``
            or ``name``, which the corpus sets.

    Returns:
        The paths written, every video, and each group's true shares.

    Raises:
        ConfigError: An argument is out of range.

    Example:
        >>> corpus = generate_corpus("corpus", n_per_group=2, duration_s=60)  # doctest: +SKIP
        >>> round(corpus.shares["A"][1], 2)  # economy in group A  # doctest: +SKIP
        0.5

    """
    groups = tuple(DEFAULT_GROUPS if groups is None else groups)
    check_seed(seed, "seed")
    _validate_groups(groups, n_per_group, video_kwargs)
    n_themes = len(groups[0].mixture)
    for group in groups:
        # Every argument is checked before the first video is written.
        _validate(
            group.lang,
            duration_s,
            n_themes,
            video_kwargs.get("width", 640),
            video_kwargs.get("height", 360),
            video_kwargs.get("fps", 10),
            video_kwargs.get("keyframe_every_s", 2.0),
            video_kwargs.get("segment_s", (10, 30)),
            group.mixture,
            video_kwargs.get("looks") or list(range(n_themes)),
        )
    if trend is not None and trend.group not in {group.name for group in groups}:
        raise ConfigError(f"the trend's group {trend.group!r} is not one of the corpus's groups")
    for changed in (trend, covariate):
        if changed is not None and not 0 <= changed.theme < n_themes:
            raise ConfigError(
                f"the trend's or covariate's theme {changed.theme} is not in 0..{n_themes - 1}"
            )
    targets = [_video_targets(group, n_per_group, trend, covariate) for group in groups]
    out = Path(out_dir)
    videos: list[SyntheticCorpusVideo] = []
    for g, group in enumerate(groups):
        mixtures = _video_mixtures(np.random.default_rng([seed, 3, g]), targets[g], n_per_group)
        for i, mixture in enumerate(mixtures):
            video_seed = int(np.random.SeedSequence([seed, g, i]).generate_state(1)[0])
            video = generate_news_video(
                out / group.name,
                lang=group.lang,
                duration_s=duration_s,
                n_themes=n_themes,
                seed=video_seed,
                name=f"news_{i + 1:02d}",
                mixture=[float(x) for x in mixture],
                **video_kwargs,
            )
            video_shares = theme_shares(read_truth(video.truth_path), n_themes)
            videos.append(
                SyntheticCorpusVideo(
                    group=group.name,
                    video=video,
                    seed=video_seed,
                    mixture=tuple(float(x) for x in mixture),
                    shares=tuple(float(x) for x in video_shares),
                    date=start_date + datetime.timedelta(days=i * days_apart),
                    metadata={} if covariate is None else {covariate.name: covariate.levels[i % 2]},
                )
            )
    manifest_path = out / "corpus.csv"
    with manifest_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        columns = [] if covariate is None else [covariate.name]
        writer.writerow(["video", "subtitles", "group", "lang", "seed", "truth", "date", *columns])
        for member in videos:
            v = member.video
            writer.writerow(
                [
                    v.video_path.relative_to(out).as_posix(),
                    v.subtitles_path.relative_to(out).as_posix(),
                    member.group,
                    v.lang,
                    member.seed,
                    v.truth_path.relative_to(out).as_posix(),
                    member.date.isoformat(),
                    *(member.metadata[c] for c in columns),
                ]
            )
    # Videos of one corpus are equally long, so a group's airtime share is the mean of
    # its videos' shares.
    shares = {
        group.name: tuple(
            float(x) for x in np.mean([m.shares for m in videos if m.group == group.name], axis=0)
        )
        for group in groups
    }
    theme_names = THEME_TOPICS[:n_themes]
    shares_path = out / "truth_shares.csv"
    with shares_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["group", "theme", "name", "share", "target"])
        for group in groups:
            target = np.asarray(group.mixture) / sum(group.mixture)
            for k, name in enumerate(theme_names):
                writer.writerow(
                    [group.name, k, name, f"{shares[group.name][k]:.6f}", f"{target[k]:.6f}"]
                )
    return SyntheticCorpus(
        manifest_path=manifest_path,
        shares_path=shares_path,
        videos=tuple(videos),
        groups=groups,
        shares=shares,
        theme_names=theme_names,
    )


def read_group_shares(path: str | os.PathLike[str]) -> dict[str, tuple[float, ...]]:
    """Read ``truth_shares.csv``: each group's true airtime share of each theme id.

    Example:
        >>> read_group_shares("corpus/truth_shares.csv")["B"][1]  # doctest: +SKIP
        0.05

    """
    with Path(path).open(newline="", encoding="utf-8") as fh:
        rows = [(r["group"], int(r["theme"]), float(r["share"])) for r in csv.DictReader(fh)]
    shares: dict[str, dict[int, float]] = {}
    for group, theme, share in rows:
        shares.setdefault(group, {})[theme] = share
    return {
        group: tuple(by_theme[k] for k in range(len(by_theme)))
        for group, by_theme in shares.items()
    }
