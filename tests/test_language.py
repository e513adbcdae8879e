"""Language from characters: English, Chinese (simplified and traditional), mixed, empty."""

from __future__ import annotations

import pytest

from themescope.media.language import (
    contains_cjk,
    contains_han,
    count_cjk,
    detect_language,
    is_chinese,
    is_cjk,
    is_han,
    join_texts,
    phrase_language,
)


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["Good evening and welcome to the news.", "Vaccines reach every city."], "en"),
        (["大家好，欢迎收看新闻联播。", "今天我们关注疫苗接种的最新进展。"], "zh"),
        (["大家好，歡迎收看新聞聯播。", "今天我們關注疫苗接種的最新進展。"], "zh"),
        # Chinese news quoting English names stays Chinese ...
        (["世界卫生组织WHO表示，COVID-19疫苗接种正在全国展开。"], "zh"),
        # ... and English quoting one Chinese name stays English.
        (["The minister, 王毅, said the vaccine plan will reach every province soon."], "en"),
        (["こんにちは、今日のニュースです。"], "ja"),
        (["안녕하세요 오늘의 뉴스입니다"], "ko"),
        ([], "und"),
        ([""], "und"),
        (["", "   "], "und"),
        (["123 456 — !!!", "2024"], "und"),
        (["Привет мир"], "und"),
    ],
)
def test_detect_language(texts, expected):
    assert detect_language(texts) == expected


def test_detect_language_accepts_a_generator():
    assert detect_language(t for t in ["hello", "world"]) == "en"


def test_mixed_goes_to_the_majority_in_words():
    # 3 Latin words against 12 ideographs (8 words' worth): Chinese.
    assert detect_language(["the vaccine plan", "疫苗接种计划今天开始全国推广"]) == "zh"
    # 12 Latin words against 2 ideographs: English.
    assert (
        detect_language(["one two three four five six seven eight nine ten eleven 疫苗 twelve"])
        == "en"
    )


def test_cjk_helpers():
    assert is_cjk("中") and is_cjk("，") and is_cjk("か") and not is_cjk("a") and not is_cjk(" ")
    assert contains_cjk("COVID-19疫苗") and not contains_cjk("COVID-19")
    assert join_texts(["hello", "", "world"]) == "hello world"
    assert join_texts(["大家好，", "欢迎"]) == "大家好，欢迎"
    assert join_texts(["疫苗", "COVID"]) == "疫苗 COVID"


def test_han_helpers_cover_the_extension_blocks():
    # U+20BB7 (Extension B) and U+F900 (compatibility) are ideographs too.
    assert is_han("中") and is_han("\U00020bb7") and is_han("\uf900")
    assert not is_han("か") and not is_han("，") and not is_han("a")
    assert contains_han("COVID-19疫苗") and not contains_han("こんにちは")
    assert count_cjk("WHO表示，COVID") == 3
    assert is_chinese("zh-Hans") and is_chinese("cmn") and not is_chinese("ja")


@pytest.mark.parametrize(
    ("texts", "declared", "expected"),
    [
        (["新冠疫苗", "接种"], "und", "zh"),
        # a run told "en" whose text is Chinese is cut as Chinese
        (["今天我们关注疫苗接种的最新进展。"], "en", "zh"),
        # Japanese is cut by jieba, not at spaces
        (["こんにちは、今日のニュースです。"], "ja", "zh"),
        (["The minister, 王毅, said the plan is ready."], "und", "und"),
        (["a vaccine"], "en", "en"),
        (["a vaccine"], "zh-Hant", "zh-Hant"),
    ],
)
def test_phrase_language(texts, declared, expected):
    assert phrase_language(texts, declared) == expected
