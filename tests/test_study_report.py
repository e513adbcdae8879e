"""The study report stage, without a browser (see test_study_report_browser.py)."""

from __future__ import annotations

import html as html_module
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from helpers import add_stability
from report_fixtures import SCRIPT_PAYLOAD, parse_page
from study_fixtures import (
    ADDED_AT,
    CHINESE_GLOSS,
    CHINESE_LABEL,
    FAILED_ERROR,
    FAILED_VIDEO,
    GROUP_PHRASE_ZH,
    GROUP_PHRASE_ZH_GLOSS,
    GROUP_SENTENCE,
    NOVEL_THRESHOLD,
    OUTLET_SENTENCE,
    SAID_BY_BOTH,
    THEMES_WARNING,
    TRAIN_WARNING,
    VIDEO_WARNING,
    StudySpec,
    build_study,
)
from themescope.report import plots
from themescope.report.study_page import (
    MAX_FRAMES_PER_GROUP,
    MAX_FRAMES_PER_THEME,
    StudyReportStage,
    render_study_report,
)
from themescope.rundir import RunDirectory, run_stage
from themescope.study_documents import read_study_themes, read_study_videos, write_study


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = build_study(tmp_path_factory.mktemp("study-report"))
    render_study_report(path)
    return path


@pytest.fixture(scope="module")
def html(study: Path) -> str:
    return (study / "report.html").read_text(encoding="utf-8")


def _cell(html: str, theme: int, group: str) -> str:
    found = re.findall(
        rf'<td class="cell" data-theme="{theme}" data-group="{group}" style="([^"]*)">(.*?)</td>',
        html,
    )
    assert len(found) == 1, (theme, group)
    style, text = found[0]
    return f"{style}|{text}"


def _section(html: str, element_id: str) -> str:
    return html.split(f'id="{element_id}"')[1].split("</section>")[0]


def _video_row(html: str, video: str) -> str:
    return html.split(f'<div class="video-row" data-video="{video}">')[1].split(
        '<div class="video-row'
    )[0]


def test_heat_map_shows_every_share_with_its_interval_and_each_themes_p_value(
    study: Path, html: str
) -> None:
    document = read_study_themes(study / "themes.json")
    table = html.split('id="share-table"')[1].split("</table>")[0]
    assert table.count('<td class="cell"') == document.k * len(document.groups)
    largest = max(s.share for t in document.themes for s in t.group_shares.values())
    for theme in document.themes:
        for group, share in theme.group_shares.items():
            cell = _cell(html, theme.id, group)
            assert f'<span class="cell-share">{share.share * 100:.1f}%</span>' in cell
            if share.low is None:
                assert "no interval (one video)" in cell  # TW has a single video
            else:
                assert f"{share.low * 100:.1f}–{share.high * 100:.1f}%" in cell
            # one colour scale from 0 to the largest share (rounded up to 10 points)
            assert f"background: {plots.heat_color(share.share, 0.0, 0.6)}" in cell
        row = table.split(f'<tr data-theme="{theme.id}"')[1].split("</tr>")[0]
        assert f"{theme.share * 100:.1f}%" in row
        p_cell = row.split('class="num p-value">')[1]
        assert p_cell.startswith(f"{theme.group_p_value:.3f}")
        assert ("★" in p_cell) == (theme.group_p_value < 0.05)
        assert row.startswith(' class="differs"') == (theme.group_p_value < 0.05)
    assert largest == 0.6 and "<span>60%</span>" in _section(html, "shares")  # the legend's top
    # the Chinese label carries its gloss in the table
    assert f'{CHINESE_LABEL} <span class="gloss">({CHINESE_GLOSS})</span>' in table
    assert '<th class="num">p (Holm)</th>' in table
    # each group's mix of themes is one bar, split by theme
    mixes = html.split('class="mixes"')[1].split("</div>\n  <div")[0]
    assert mixes.count('class="mix-bar"') == len(document.groups)


def test_method_states_the_design_and_the_test_in_words(html: str) -> None:
    method = _section(html, "method")
    for expected in (
        "7 videos in 3 groups",
        '<span class="group-name">TW</span> 1 video',
        "1 video could not be ingested",
        "140 frames, one every 2 s",
        "trained on a seeded sample of 105 of the 140 frames",
        "multilingual word space",
        "<strong>k = 3</strong> themes (chosen in 2–4): k=3 has the highest combined score (0.71).",
        "95% bootstrap intervals over videos (1000 resamples",
        "videos, not frames, are resampled",
        "permutation test over videos (1000 random permutations",
        "<strong>p = 0.002</strong>",
        "The groups' theme mixes differ",
        "in only 0.2% of the random assignments",
        "Holm-corrected for the 3 themes",
        "image PSNR 22.1 dB",
    ):
        assert expected in method, expected
    # the k table and charts are one click away
    assert "k-details" in method and method.count('<tr class="chosen">') == 1


def test_theme_cards_show_examples_and_distinctive_phrases_of_each_group(
    study: Path, html: str
) -> None:
    document = read_study_themes(study / "themes.json")
    frames = pq.read_table(study / "frames.parquet").to_pylist()
    for theme in document.themes:
        card = html.split(f'id="theme-{theme.id}"')[1].split("</article>")[0]
        assert card.count('class="group-col"') == len(document.groups)
        for group in document.groups:
            column = card.split(f'<div class="group-col" data-group="{group.name}">')[1]
            column = column.split('<div class="group-col"')[0]
            shown = re.findall(r"<figcaption>([^ ]+) · ", column)
            assert 1 <= len(shown) <= MAX_FRAMES_PER_GROUP
            assert {v for v in shown} <= {f["video"] for f in frames if f["group"] == group.name}
            if group.n_videos > 1:  # examples come from several of the group's videos
                assert len(set(shown)) > 1, (theme.id, group.name, shown)
            assert all('src="data:image/jpeg;base64,' in f for f in column.split("<figure>")[1:])
        assert f'headline {theme.id} <span class="muted">(' in card  # on-screen text
        assert "stock market" in card
        # the group phrase in Chinese, with its count and its gloss
        assert (
            f'{GROUP_PHRASE_ZH} <span class="muted" title="said 9 times; weighted log-odds '
            f'z = 4.2">×9</span> <span class="gloss">({GROUP_PHRASE_ZH_GLOSS})</span>'
        ) in card
        assert ("★ yes" in card) == (theme.group_p_value < 0.05)
    chinese = html.split('id="theme-1"')[1].split("</article>")[0]
    assert f'{CHINESE_LABEL} <span class="gloss">({CHINESE_GLOSS})</span></h3>' in chinese
    assert '<p class="people">王华庆</p>' in chinese
    assert f'{CHINESE_LABEL} <span class="gloss">({CHINESE_GLOSS})</span></span></li>' in chinese


def test_what_two_groups_say_each_in_its_language_is_shown_as_said_by_both(html: str) -> None:
    english, chinese, gloss = SAID_BY_BOTH
    card = html.split('id="theme-0"')[1].split("</article>")[0]
    columns, both = card.split('<div class="said-by-both">')
    assert "both groups say, each in its own language (no difference):" in both
    assert (
        f'<span class="group-name">US</span> <span class="phrase-text">{english}</span> ↔ '
        f'<span class="group-name">CN</span> <span class="phrase-text">{chinese} '
        f'<span class="gloss">({gloss})</span></span></li>'
    ) in both
    assert english not in columns and chinese not in columns  # no group "says more" of it
    assert "is no difference and is listed as said by both" in _section(html, "method")


def test_every_video_has_its_timeline_and_every_failure_is_shown(study: Path, html: str) -> None:
    document = read_study_themes(study / "themes.json")
    videos = read_study_videos(study / "videos.json")
    labels = {t.id: t.label for t in document.themes}
    for record in document.videos:
        row = _video_row(html, record.id)
        assert row.count('<rect class="seg"') == len(record.spans)
        _, end_s, theme = record.spans[0]
        assert f"<title>0:00–0:{end_s:02.0f} · {labels[theme]}</title>" in row
        assert 'class="timeline video-timeline"' in row and "0:40" in row
        assert "date 2020-01-1" in row and "evening news" in row
    groups = _section(html, "videos").split('<div class="video-group"')[1:]
    assert [g.split('"')[1] for g in groups] == ["US", "CN", "TW"]
    assert "4 videos, 1 failed" in groups[1]
    failed = _video_row(html, FAILED_VIDEO)
    assert f"failed: {FAILED_ERROR}" in failed and "<svg" not in failed
    assert len(videos.videos) == len(document.videos) + 1

    warnings = _section(html, "warnings")
    for message in (
        f"video {FAILED_VIDEO} (row 8) failed: {FAILED_ERROR}",
        TRAIN_WARNING,
        THEMES_WARNING,
        VIDEO_WARNING,
    ):
        assert warnings.count(message.replace("'", "&#39;")) == 1, message
    assert '<span class="stage-tag">us-1</span>' in warnings  # a video's own warning
    failed_table = warnings.split('<table class="failed">')[1]
    assert f'<tr data-video="{FAILED_VIDEO}"><td>{FAILED_VIDEO}</td><td>CN</td>' in failed_table


def test_page_is_self_contained_runs_no_script_and_shows_markup_as_text(html: str) -> None:
    assert "http://" not in html and "https://" not in html and "url(" not in html
    page = parse_page(html)
    assert not page.scripts
    for tag, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), tag
        if tag == "img":
            assert (attrs["src"] or "").startswith("data:image/jpeg;base64,")
    (csp,) = [
        a["content"] for t, a in page.tags if a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp is not None and "default-src 'none'" in csp and "script-src 'none'" in csp
    assert SCRIPT_PAYLOAD not in html
    assert "&lt;script&gt;window.__pwned=2&lt;/script&gt;" in html
    assert '"Noto Sans CJK SC"' in html


def test_report_stage_records_the_page_and_is_skipped_when_current(study: Path) -> None:
    record = RunDirectory(study).require("report")
    html = (study / "report.html").read_text(encoding="utf-8")
    assert record.bytes == len(html.encode("utf-8")) == (study / "report.html").stat().st_size
    assert (record.n_themes, record.n_frames) == (3, 140)
    assert record.n_thumbnails == len(set(re.findall(r'src="(data:image/jpeg[^"]+)"', html)))
    assert run_stage(study, StudyReportStage()).status == "skipped"


def test_the_title_says_how_many_videos_and_which_groups_it_compares(
    study: Path, html: str
) -> None:
    # It was "Study: study", the folder's name.
    n_done = sum(v.status == "done" for v in read_study_videos(study / "videos.json").videos)
    assert "<h1>Study of 7 videos: US vs CN vs TW</h1>" in html and n_done == 7
    assert "<title>themescope · Study of 7 videos: US vs CN vs TW</title>" in html


def test_unstable_themes_are_flagged_on_the_study_page(tmp_path: Path, html: str) -> None:
    assert "Do the themes survive another seed? (not measured)" in html
    study = build_study(tmp_path)
    document = read_study_themes(study / "themes.json")
    add_stability(document, unstable=1, n_refits=4)
    write_study(study / "themes.json", document)
    render_study_report(study)
    html = (study / "report.html").read_text(encoding="utf-8")
    assert f"(1 of {document.k} unstable)</summary>" in html
    assert '<details id="stability" open>' in html
    unstable = html.split('id="theme-1"')[1].split("</article>")[0]
    assert "came back in 1 of 4 refits" in unstable and "unstable</span>" in unstable
    stable = html.split('id="theme-0"')[1].split("</article>")[0]
    assert "came back in 4 of 4 refits" in stable and "unstable</span>" not in stable
    assert "refitted 4 times with other seeds (1, 2, 3, 4" in html


def test_an_interval_without_width_says_why(tmp_path: Path) -> None:
    # "5.0–5.0 %" looked like a measured certainty; every video of the group gave 5 %.
    study = build_study(tmp_path)
    document = read_study_themes(study / "themes.json")
    share = document.themes[0].group_shares["US"]
    share.low = share.high = share.share
    write_study(study / "themes.json", document)
    render_study_report(study)
    html = (study / "report.html").read_text(encoding="utf-8")
    cell = _cell(html, document.themes[0].id, "US")
    assert '<span class="cell-ci">no spread: the same in every video</span>' in cell
    assert "–" not in cell


def test_a_study_of_one_group_has_no_test_and_missing_images_are_reported(
    tmp_path: Path,
) -> None:
    study = build_study(tmp_path, StudySpec(groups={"US": 2}))
    document = read_study_themes(study / "themes.json")
    document.group_test = None
    for theme in document.themes:
        theme.group_p_value = None
    write_study(study / "themes.json", document)
    (study / "videos" / "us-1" / "frames" / "000000.jpg").unlink()
    frames = pq.read_table(study / "frames.parquet")
    images = frames.column("image").to_pylist()
    images[1] = "../../outside.jpg"  # a path that leaves the study is never embedded
    pq.write_table(
        frames.set_column(frames.column_names.index("image"), "image", [images]),
        study / "frames.parquet",
    )

    result = render_study_report(study)
    html = (study / "report.html").read_text(encoding="utf-8")
    assert "No test: the study has fewer than two groups to compare." in html
    assert "★" not in _section(html, "shares").split("</table>")[0].split("<tbody>")[1]
    assert (
        result.record.warnings and "example frame images are missing" in result.record.warnings[0]
    )
    assert "example frame images are missing or unreadable" in _section(html, "warnings")


def test_a_large_study_makes_a_page_of_a_few_megabytes(tmp_path: Path) -> None:
    # 60 videos of 400 frames whose theme changes at every frame: the most spans there can be
    spec = StudySpec(groups={"US": 30, "CN": 30}, n_frames=400, k=12, image_pool=4, churn=True)
    study = build_study(tmp_path, spec)
    record = render_study_report(study).record
    html = (study / "report.html").read_text(encoding="utf-8")
    assert record.n_frames == 24_000 and record.n_themes == 12
    assert record.bytes < 8_000_000, record.bytes
    assert record.n_thumbnails <= 12 * MAX_FRAMES_PER_THEME
    assert html.count('class="timeline video-timeline"') == 60
    assert html.count('<rect class="seg"') >= 60 * 400


def test_shares_over_time_are_drawn_per_theme_with_each_group_and_its_band(html: str) -> None:
    section = _section(html, "over-time")
    charts = re.findall(
        r'<figure class="over-time-chart" data-theme="(\d+)">(.*?)</figure>', section
    )
    assert [theme for theme, _ in charts] == ["0", "1", "2"]
    for _, chart in charts:
        # US and CN have a video on each of the three days, TW on the first only.
        assert chart.count("<polyline") == 2
        assert chart.count("<circle") == 3 + 3 + 1
        # Only US's points carry an interval in the fixture: one band.
        assert chart.count('class="band"') == 1
        assert ">2020-01-11</text>" in chart and ">2020-01-13</text>" in chart
        assert all(f">{group}</text>" in chart for group in ("US", "CN", "TW"))
    method = html_module.unescape(re.sub(r"\s+", " ", _section(html, "method")))
    assert "The videos' date column puts them in 3 days from 2020-01-11 to 2020-01-13" in method
    assert '<a href="#over-time">over time</a>' in html


def test_covariate_effects_are_said_in_sentences_and_tabled(html: str) -> None:
    section = html_module.unescape(_section(html, "effects"))
    sentences = re.findall(r"<li>(.*?)</li>", section)
    # Largest first.
    assert sentences == [f"{GROUP_SENTENCE}.", f"{OUTLET_SENTENCE}."]
    header = section.split("<thead>")[1].split("</thead>")[0]
    assert re.findall(r'<th class="num">(.*?)</th>', header) == [
        "group=CN",
        "group=TW",
        "outlet_type=state",
    ]
    row = section.split('<tr data-theme="0">')[1].split("</tr>")[0]
    assert '+12.0 <span class="sig">★</span><br><span class="cell-ci">5.0 to 19.0</span>' in row
    assert row.count("★") == 1
    method = _section(html, "method")
    assert "ordinary least squares regression of each video&#39;s share" in method
    assert "7 videos, 1000 resamples, 95% intervals" in method


def test_a_first_version_study_document_has_no_time_or_effects_sections(tmp_path: Path) -> None:
    study = build_study(tmp_path, StudySpec(first_version=True))
    assert read_study_themes(study / "themes.json").over_time is None
    render_study_report(study)
    html = (study / "report.html").read_text(encoding="utf-8")
    assert 'id="over-time"' not in html and 'id="effects"' not in html
    assert "#over-time" not in html and "Covariates." not in html
    assert "said-by-both" not in html and "listed as said by both" not in html


def test_videos_added_to_the_fitted_study_show_when_and_their_novel_share(
    tmp_path: Path, html: str
) -> None:
    assert 'id="added"' not in html and "#added" not in html  # a study without added videos
    study = build_study(tmp_path, StudySpec(added={"us-3": 0.45, "cn-3": 0.0}))
    render_study_report(study)
    page = (study / "report.html").read_text(encoding="utf-8")
    assert '<a href="#added">added videos (2)</a>' in page
    section = _section(page, "added")
    rows = re.findall(
        r'<tr data-video="([^"]+)"><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td>'
        r'<td class="num">(\d+)</td><td class="num novel-share">([^<]*)</td>',
        section,
    )
    assert rows == [("us-3", "US", ADDED_AT, "20", "45.0%"), ("cn-3", "CN", ADDED_AT, "20", "0.0%")]
    # how the threshold was calibrated, as corpus/assign.py computes it
    sentence = " ".join(section.split())
    assert (
        f"farther from every theme's centre (distance {NOVEL_THRESHOLD:.3g} in the space the "
        "themes were clustered in) than 99% of the fitted frames are from their own theme's "
        "centre, so "
        "by construction 1% of the fit lies beyond it"
    ) in sentence
    assert "9 of the 40 added frames are novel" in sentence
    # each added video is marked beside its timeline, a fitted one is not
    assert 'href="#added" title="added to the fitted study ' + ADDED_AT in _video_row(page, "us-3")
    assert 'href="#added"' not in _video_row(page, "us-1")
