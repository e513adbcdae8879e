"""The report stage and the comparison page, without a browser (see test_report_browser.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

import pytest

from helpers import add_stability
from report_fixtures import (
    ALERT_PAYLOAD,
    CHINESE_PHRASE,
    CHINESE_TEXT,
    IMG_PAYLOAD,
    SCRIPT_PAYLOAD,
    PageTags,
    build_compare,
    build_run,
    parse_page,
)
from themescope._atomic import write_json_atomic
from themescope._cli import main
from themescope.documents import read_themes, write_themes
from themescope.errors import RunDirectoryError, StageNotDoneError
from themescope.report import render_compare, render_report
from themescope.report._common import json_for_script
from themescope.rundir import RunDirectory


def _assert_self_contained_and_inert(html: str) -> PageTags:
    """No external reference, no executable markup besides the page's own script."""
    assert "http://" not in html and "https://" not in html
    assert "@import" not in html and "url(" not in html
    page = parse_page(html)
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler attribute on <{tag}>: {name}"
            if name in ("src", "href"):
                assert value is not None and (value.startswith("data:") or value.startswith("#")), (
                    f"<{tag} {name}={value!r}> is not self-contained"
                )
        assert tag not in ("iframe", "object", "embed", "base", "form", "link") or (
            tag == "link" and attrs.get("rel") == "icon"
        ), f"unexpected <{tag}>"
    executable = [(a, t) for a, t in page.scripts if a.get("type") != "application/json"]
    assert len(executable) == 1, "exactly one (hand-written) script may run"
    assert all(not a.get("src") for a, _ in page.scripts)
    # The CSP allows that script by its hash and nothing else, and forbids the network.
    csp = next(
        attrs["content"]
        for tag, attrs in page.tags
        if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
    )
    assert csp is not None and "default-src 'none'" in csp and "img-src data:" in csp
    digest = base64.b64encode(hashlib.sha256(executable[0][1].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    return page


def _data_block(page: PageTags) -> dict:
    (text,) = [t for a, t in page.scripts if a.get("type") == "application/json"]
    assert "<" not in text and ">" not in text and "&" not in text
    data: dict = json.loads(text)
    return data


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return build_run(tmp_path, name="us-report")


def test_report_is_self_contained_and_shows_every_part(run_dir: Path) -> None:
    path = render_report(run_dir).run / "report.html"
    assert path == run_dir / "report.html"
    html = path.read_text(encoding="utf-8")
    page = _assert_self_contained_and_inert(html)

    themes = json.loads((run_dir / "themes.json").read_text(encoding="utf-8"))["themes"]
    # a Chinese phrase is shown with its English gloss beside it
    assert f'{CHINESE_PHRASE} <span class="gloss">(vaccination)</span>' in html
    cards = [a for t, a in page.tags if t == "article" and "theme-card" in (a.get("class") or "")]
    assert [a["id"] for a in cards] == [f"theme-{t['id']}" for t in themes]
    for theme in themes:
        card = html.split(f'id="theme-{theme["id"]}"')[1].split("</article>")[0]
        assert card.count('class="phrase-btn"') == len(theme["phrases"])
        assert f"{theme['share'] * 100:.0f}%" in card
        assert "only " in card and "phrases: not enough distinct text" in card  # phrases_note
    # Each card is titled by its label and names its people; the run's common phrases lead.
    for theme_id, label in ((1, "TONIGHT AT THE NEWS DESK"), (2, "Expert explains the data")):
        card = html.split(f'id="theme-{theme_id}"')[1].split("</article>")[0]
        assert f"</span>{label}</h3>" in card
    people = html.split('id="theme-1"')[1].split("</article>")[0]
    assert '<p class="people">People: Dana Kessler, 王华庆</p>' in people
    assert "People:" not in html.split('id="theme-0"')[1].split("</article>")[0]
    about = html.split('id="common"')[1].split("</p>")[0]
    assert "What the whole video is about:" in about
    assert '<span class="common-phrase">vaccination drive</span>' in about
    # The extractive tagger diversifies its list, so scores may rise down it: the page says so.
    order = html.split('id="phrase-order">')[1].split("</p>")[0]
    assert order == (
        "The number beside a phrase is its relevance to the theme. The list is diversified "
        "(maximal marginal relevance): a phrase much like one above it moves down, so the "
        "numbers need not fall down the list."
    )
    assert html.index('id="common"') < html.index('id="theme-0"')
    unsupported = html.split('id="theme-2"')[1].split("</article>")[0]
    assert "hallucinated moon landing" in unsupported and "unsupported</span>" in unsupported

    # Every frame is a timeline segment and a map point; each has a thumbnail for the script.
    assert html.count('class="seg"') == 18
    assert html.count('class="pt"') == 18
    data = _data_block(page)
    assert len(data["thumbs"]) == 18 and all(
        uri.startswith("data:image/jpeg;base64,") for uri in data["thumbs"].values()
    )
    assert data["frames"][1]["text"].startswith(f"breaking {SCRIPT_PAYLOAD}")

    # Facts, settings, k selection, training, warnings of every stage.
    for expected in (
        "0:36",
        "83% of frames have text",
        "subtitles",
        "PSNR 21.5 dB",
        "k=3 has the highest silhouette",
        "mean distance to centroid (elbow)",
        "training loss",
        'alt="frames and their reconstructions"',
        "training stopped early at epoch 4",
        "k lowered from 5 to 3: too few frames",
        "subtitle line 7 was skipped",
        "3407",
        "all-MiniLM-L6-v2",
    ):
        assert expected in html, expected
    assert html.count('<tr class="chosen">') == 1
    # Chinese text reaches the page as text, and the CSS names CJK fonts.
    assert CHINESE_TEXT in html and CHINESE_PHRASE in html
    assert '"Noto Sans CJK SC"' in html


def test_unstable_themes_are_flagged_and_the_refits_explained(run_dir: Path) -> None:
    # A run without stability figures says so instead of showing an empty table.
    html = render_report(run_dir).run.path.joinpath("report.html").read_text(encoding="utf-8")
    assert "Stability was not measured for these themes" in _section(html, "stability")
    assert "refits" not in html.split('id="theme-0"')[1].split("</article>")[0]

    document = read_themes(run_dir / "themes.json")
    add_stability(document, unstable=2)
    write_themes(run_dir / "themes.json", document)
    html = (
        render_report(run_dir, force=True)
        .run.path.joinpath("report.html")
        .read_text(encoding="utf-8")
    )
    stable = html.split('id="theme-0"')[1].split("</article>")[0]
    assert "came back in 5 of 5 refits" in stable and "unstable</span>" not in stable
    unstable = html.split('id="theme-2"')[1].split("</article>")[0]
    assert "came back in 1 of 5 refits" in unstable and "unstable</span>" in unstable
    section = _section(html, "stability")
    assert "refitted 5 times with other seeds (1, 2, 3, 4, 5" in section
    assert "each into the same k = 3 clusters" in section
    assert "mean adjusted Rand index 0.71 (lowest 0.52" in section
    assert section.count('<tr class="unstable">') == 1
    assert '<td class="num">1 of 5</td>' in section.split('<tr class="unstable">')[1]


def _section(html: str, element_id: str) -> str:
    return html.split(f'id="{element_id}"')[1].split("</section>")[0]


def test_injected_markup_is_shown_as_text(run_dir: Path) -> None:
    html = (render_report(run_dir).run / "report.html").read_text(encoding="utf-8")
    for payload in (SCRIPT_PAYLOAD, IMG_PAYLOAD, ALERT_PAYLOAD):
        assert payload not in html
    assert "&lt;script&gt;window.__pwned=2&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=" in html
    page = _assert_self_contained_and_inert(html)
    assert not any(t == "img" and a.get("src") == "x" for t, a in page.tags)
    # The phrase that is a payload still has its evidence, escaped.
    card = html.split('id="theme-0"')[1].split("</article>")[0]
    assert "&#34;&gt;&lt;img src=x onerror=&#34;window.__pwned=1&#34;&gt;" in card
    # So are a name and a common phrase that are payloads.
    about = html.split('id="common"')[1].split("</p>")[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in about
    people = html.split('id="theme-2"')[1].split("</article>")[0].split('class="people">')[1]
    assert people.lower().startswith("people: &#34;&gt;&lt;img src=x onerror=")


def test_json_for_script_cannot_close_its_block() -> None:
    value = {"text": "</script><!-- <script>x</script> & \u2028"}
    text = str(json_for_script(value))
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == value


def test_rebuild_is_a_no_op_when_current_and_redone_with_force(run_dir: Path) -> None:
    path = render_report(run_dir).run / "report.html"
    record = RunDirectory(run_dir).record("report")
    assert record is not None and record.n_themes == 3 and record.n_frames == 18
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))

    assert render_report(run_dir).status == "skipped"
    assert path.stat().st_mtime_ns == 1_000_000_000, "a current report must not be rewritten"

    render_report(run_dir, force=True)
    assert path.stat().st_mtime_ns > 1_000_000_000

    # New themes (a new fingerprint) make the report stale.
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest["stages"]["themes"]["fingerprint"] = "themes-fp-2"
    write_json_atomic(run_dir / "manifest.json", manifest)
    render_report(run_dir)
    assert path.stat().st_mtime_ns > 1_000_000_000
    assert not list(run_dir.glob(".staging-*"))


def test_missing_optional_files_are_reported_not_fatal(tmp_path: Path) -> None:
    run_dir = build_run(
        tmp_path, with_train_files=False, with_projection=False, with_k_selection=False
    )
    (run_dir / "cues.parquet").unlink()
    (run_dir / "frames" / "000005.jpg").unlink()
    (run_dir / "frames" / "000006.jpg").write_bytes(b"not a jpeg")

    html = (render_report(run_dir).run / "report.html").read_text(encoding="utf-8")
    _assert_self_contained_and_inert(html)
    for expected in (
        "The training loss is not available",
        "Image reconstructions are not available",
        "Text reconstructions are not available",
        "The 2-D map is not available",
        "The k-selection table is not available",
        "2 of 18 frame images are missing or unreadable",
    ):
        assert expected in html, expected
    record = RunDirectory(run_dir).record("report")
    assert record is not None and record.n_thumbnails == 16
    assert any("2 of 18 frame images" in w for w in record.warnings)
    # Without cues.parquet the transcript falls back to the frames' own text.
    assert "nurses give the vaccine at the clinic part 0" in html


def test_cli_report_without_themes_exits_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = build_run(tmp_path, themes_done=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(run_dir)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "no finished themes stage" in err and "themescope themes" in err
    assert "Traceback" not in err
    assert not (run_dir / "report.html").exists()

    missing = tmp_path / "nowhere"
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(missing)])
    assert exit_info.value.code == 2
    assert "does not exist" in capsys.readouterr().err
    assert not missing.exists()


def test_cli_report_writes_and_says_where(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--quiet", "report", str(run_dir)])
    assert exit_info.value.code == 0
    assert str(run_dir / "report.html") in capsys.readouterr().out.replace("\n", "")


def test_api_errors_are_themescope_errors(tmp_path: Path) -> None:
    run_dir = build_run(tmp_path, themes_done=False)
    with pytest.raises(StageNotDoneError):
        render_report(run_dir)
    (tmp_path / "cmp").mkdir()
    with pytest.raises(RunDirectoryError, match=r"compare\.json is missing"):
        render_compare(tmp_path / "cmp")
    (tmp_path / "cmp" / "compare.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(RunDirectoryError, match="unreadable"):
        render_compare(tmp_path / "cmp")


def test_a_compare_json_of_an_older_themescope_says_what_to_rerun(tmp_path: Path) -> None:
    out = build_compare(
        tmp_path, build_run(tmp_path, name="us"), build_run(tmp_path, name="cn", lang="zh")
    )
    with pytest.raises(RunDirectoryError) as info:
        render_compare(out)
    assert str(info.value) == (
        f"{out / 'compare.json'} has schema_version 2, from an older themescope that matched "
        f"separately fitted themes; rerun `themescope compare RUN_A RUN_B --out {out}` to "
        "compare the runs jointly"
    )


def test_long_videos_are_capped_to_keep_the_page_small(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from themescope.report import render

    monkeypatch.setattr(render, "MAX_THUMBNAILS", 5)
    monkeypatch.setattr(render, "MAX_TIMELINE_SEGMENTS", 10)
    monkeypatch.setattr(render, "MAX_MAP_POINTS", 8)
    html = (render_report(run_dir).run / "report.html").read_text(encoding="utf-8")
    page = _assert_self_contained_and_inert(html)
    data = _data_block(page)
    themes = json.loads((run_dir / "themes.json").read_text(encoding="utf-8"))["themes"]
    shown_first = {i for t in themes for i in t["representative_frames"]} | {
        i for t in themes for p in t["phrases"] for i in p["evidence"]["frame_ids"]
    }
    assert {int(i) for i in data["thumbs"]} == shown_first  # nothing left for the rest
    assert html.count('class="seg"') == 4  # one per theme span
    assert html.count('class="pt"') == 8
    assert "The map shows an even sample of 8 of 18 frames." in html
    assert f"{18 - len(shown_first)} of 18 frames have no thumbnail" in html


def test_people_show_their_glossed_role_and_word_by_word_glosses_are_marked():
    import msgspec

    from themescope.documents import ThemeRecord
    from themescope.report._common import people_lines, shown_gloss

    theme = msgspec.convert(
        {
            "id": 0,
            "label": "接种",
            "frames": [0],
            "n_frames": 1,
            "share": 1.0,
            "seconds": 1.0,
            "spans": [[0.0, 1.0]],
            "representative_frames": [0],
            "phrases": [],
            "people": ["陈霞", "劳春燕", "jane doe"],
            "roles": {
                "陈霞": {"text": "湖北省武汉市汉阳区", "gloss": "Hanyang District, Wuhan City"},
                "劳春燕": {"text": "主持人", "gloss": "presenter"},
            },
            "tagger": {"backend": "extractive"},
        },
        ThemeRecord,
    )
    assert people_lines(theme) == [
        "陈霞 — 湖北省武汉市汉阳区 (Hanyang District, Wuhan City)",
        "劳春燕 — 主持人 (presenter)",
        "Jane Doe",
    ]
    assert shown_gloss("Zhang Wenhong", True) == "≈ Zhang Wenhong"
    assert shown_gloss("presenter", False) == "presenter"
