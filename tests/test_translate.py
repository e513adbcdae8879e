"""Machine-translated glosses (``--translator``) on tiny random MarianMT models."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from helpers import TRANSLATED_PHRASES, build_tiny_marian, cli_error
from report_fixtures import _themes_doc
from test_llm import _build_tiny_lm
from themescope.documents import RoleRecord, ThemesDocument, TranslatorBackend
from themescope.embedding import load_embedder
from themescope.errors import ConfigError, ModelLoadError
from themescope.report._common import backend_rows
from themescope.synthetic import SyntheticVideo
from themescope.themes.config import ThemesConfig
from themescope.themes.describe import add_glosses
from themescope.themes.gloss import MAX_WORDS, Gloss, Glosser, make_glosser
from themescope.themes.stage import ThemesStage, backends_record
from themescope.themes.translate import MAX_NEW_TOKENS, Seq2SeqTranslator, load_translator


@pytest.fixture(scope="module")
def gpt2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-gpt2")
    _build_tiny_lm(folder, n_positions=64, chat_template=None)
    return folder


@pytest.fixture(scope="module")
def minilm():  # English-only: the dictionary takes each word's first sense, no model loads
    return load_embedder("minilm", load=False)


def _generated(folder: Path, texts: list[str]) -> list[str]:
    """What transformers' own greedy ``generate`` says for ``texts``."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForSeq2SeqLM.from_pretrained(folder, local_files_only=True).eval()
    inputs = tokenizer(texts, return_tensors="pt", padding=True, return_token_type_ids=False)
    with torch.inference_mode():
        output = model.generate(
            **inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, num_beams=1
        )
    return [" ".join(t.split()) for t in tokenizer.batch_decode(output, skip_special_tokens=True)]


def _cut(translation: str) -> str:
    words = translation.split()
    return translation if len(words) <= MAX_WORDS else " ".join(words[:MAX_WORDS]) + "…"


def test_the_glosses_are_the_models_translations_cut_to_a_title(marian_dir, minilm):
    expected = _generated(marian_dir, TRANSLATED_PHRASES)
    # the end token is never chosen: every translation runs to the length limit
    assert all(len(text.split()) == MAX_NEW_TOKENS for text in expected)
    translator = load_translator(str(marian_dir), device="cpu")
    assert isinstance(translator, Seq2SeqTranslator)
    assert translator.translate(TRANSLATED_PHRASES) == expected
    glosser = make_glosser("en", minilm, translator)
    assert glosser is not None
    glosses = glosser.lookup_many([*TRANSLATED_PHRASES, "booster shot"])
    assert glosses == [*(Gloss(_cut(text), word_by_word=False) for text in expected), None]
    assert all(len(g.text.split()) == MAX_WORDS for g in glosses if g is not None)
    # one at a time, the phrases already translated are not translated again
    assert [glosser.lookup(p) for p in TRANSLATED_PHRASES] == glosses[:3]


def test_the_dictionary_glosses_what_the_model_leaves_empty(tmp_path, minilm):
    folder = tmp_path / "silent-marian"
    build_tiny_marian(folder, eos_bias=1e4)
    translator = load_translator(str(folder), device="cpu")
    assert translator is not None and translator.translate(TRANSLATED_PHRASES[:1]) == [""]
    translated = Glosser("en", minilm, translator).lookup_many(TRANSLATED_PHRASES)
    assert translated == Glosser("en", minilm).lookup_many(TRANSLATED_PHRASES)
    assert translated[0] == Gloss("booster shot")


def test_a_multilingual_vocabulary_is_told_to_translate_from_chinese_into_english(tmp_path):
    folder = tmp_path / "nllb-like"
    build_tiny_marian(folder, eos_bias=-1e4, codes=("zho_Hans", "eng_Latn"))
    translator = load_translator(str(folder), device="cpu")
    assert isinstance(translator, Seq2SeqTranslator)
    translations = translator.translate(TRANSLATED_PHRASES)
    assert translator.tokenizer_.src_lang == "zho_Hans"
    # the model itself never writes a language token: only the forced first token is one
    assert all(text.split()[0] == "eng_Latn" for text in translations)


def test_the_themes_stage_glosses_labels_and_roles_with_the_translator(marian_dir, minilm):
    stage = ThemesStage(ThemesConfig(translator=str(marian_dir)), embedder=minilm)
    stage.check()
    assert stage.glosser is not None and stage.glosser.translator is not None
    document = msgspec.convert(_themes_doc([0, 1, 2] * 4, False, False), ThemesDocument)
    document.themes[1].label = "老年人"
    document.themes[0].roles = {"劳春燕": RoleRecord(text="疫苗")}
    add_glosses(document, stage.glosser)
    label, role = _generated(marian_dir, ["老年人", "疫苗"])
    assert document.themes[1].label_gloss == _cut(label)
    assert document.themes[0].roles["劳春燕"].gloss == _cut(role)
    assert document.themes[0].phrases[0].gloss is None  # English needs no gloss
    # themes.json and the report say the glosses are machine translations, and by what
    assert stage.tagger is not None
    backends = backends_record(None, stage.tagger, minilm, "sklearn", stage.glosser)
    assert backends.translator == TranslatorBackend(name="seq2seq", model=str(marian_dir))
    assert {"kind": "translator", "name": "seq2seq", "detail": str(marian_dir)} in backend_rows(
        backends
    )


def test_a_folder_that_is_no_translation_model_is_refused_in_one_line(gpt2, tmp_path):
    with pytest.raises(ConfigError) as refused:
        load_translator(str(gpt2))
    assert str(refused.value) == (
        f"--translator {gpt2} is not a translation model: its config.json is a 'gpt2' model, "
        "not an encoder-decoder such as MarianMT (opus-mt-zh-en) or NLLB"
    )
    with pytest.raises(ModelLoadError) as missing:
        load_translator(str(tmp_path / "nothing"))
    assert str(missing.value) == f"translation model path {tmp_path / 'nothing'} does not exist"
    assert load_translator("None") is None


def test_summarize_refuses_a_translator_that_is_no_translation_model_before_any_work(
    synthetic_video_en: SyntheticVideo,
    gpt2: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "run"
    video = str(synthetic_video_en.video_path)
    subtitles = str(synthetic_video_en.subtitles_path)
    refused = cli_error(
        capsys, "summarize", video, "--subtitles", subtitles, "--out", str(out),
        "--ocr", "off", "--translator", str(gpt2),
    )  # fmt: skip
    assert refused == (
        f"--translator {gpt2} is not a translation model: its config.json is a 'gpt2' model, "
        "not an encoder-decoder such as MarianMT (opus-mt-zh-en) or NLLB"
    )
    assert not out.exists()


def test_the_comparison_page_says_which_translator_made_the_glosses(tmp_path: Path) -> None:
    from themescope.compare_document import (
        COMPARE_SCHEMA_VERSION,
        JointCompareDocument,
        read_compare,
        write_compare,
    )
    from themescope.documents import PhraseMatching
    from themescope.report.compare_page import build_compare_html

    translator = TranslatorBackend(name="seq2seq", model="/models/opus-mt-zh-en")
    document = JointCompareDocument(
        schema_version=COMPARE_SCHEMA_VERSION,
        tool="themescope",
        version="test",
        created="2026-12-06T00:00:00+00:00",
        runs=[],
        min_share=0.05,
        themes=[],
        phrase_matching=PhraseMatching(method="test", same_meaning_from=0.3, glosses=True),
        gloss_language="en",
        warnings=[],
    )
    write_compare(tmp_path / "compare.json", document)
    assert "<dd>en, from the CC-CEDICT dictionary</dd>" in build_compare_html(tmp_path)
    write_compare(
        tmp_path / "compare.json",
        msgspec.structs.replace(document, gloss_translator=translator),
    )
    loaded = read_compare(tmp_path / "compare.json")
    assert isinstance(loaded, JointCompareDocument) and loaded.gloss_translator == translator
    assert (
        "<dd>en, machine-translated by seq2seq (/models/opus-mt-zh-en)</dd>"
        in build_compare_html(tmp_path)
    )
