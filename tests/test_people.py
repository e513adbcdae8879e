"""People's names: introducers in upper-case broadcast captions, places and concepts kept out.

The sentences are written after real material: Canadian broadcast closed captions (upper
case, cut into cues mid-sentence) and an English translation of Chinese state-TV news.
"""

from __future__ import annotations

from collections import Counter

import pytest

from themescope.themes.candidates import extract
from themescope.themes.people import find_names, find_people


def names(*texts: str) -> set[str]:
    return set(find_names(list(texts), "en"))


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        (
            "OUR PRESIDENT OF BROADCASTING AND CONTENT FOR BELL MEDIA, HIS NAME IS RANDY LENNOX.",
            {"randy lennox"},
        ),
        ("THIS IS RANDY LENNOX WITH THE STORY.", {"randy lennox"}),
        ("GOOD EVENING, I'M DANA SMITH, GLOBAL NEWS.", {"dana smith"}),
        ("GLOBAL NEWS' MIKE ARSENAULT REPORTS FROM QUEEN'S PARK.", {"mike arsenault"}),
        ("CTV'S JAN CRAWFORD REPORTS.", {"jan crawford"}),
        ("WE SPOKE WITH ASHISH JHA ABOUT THE BOOSTERS.", {"ashish jha"}),
        (
            "ALRIGHT THANK YOU, PAUL. DENISE ANDREACCHI IS IN FOR A MORE LINE TODAY.",
            {"paul", "denise andreacchi"},
        ),
        (
            ">> YEAH, GLENN, HE'S REALLY BECOME A COMPLETE PLAYER FOR THE TORONTO MAPLE LEAFS.",
            {"glenn"},
        ),
        ("DR. DANA SMITH SAYS SO.", {"dana smith"}),
    ],
)
def test_introducers_find_names_in_upper_case_captions(caption: str, expected: set[str]) -> None:
    assert names(caption) == expected


def test_introducers_reach_across_cues() -> None:
    # Captions break a sentence over cues; a theme's passage joins them with spaces.
    assert names("AND CONTENT FOR BELL MEDIA, HIS NAME IS RANDY LENNOX.") == {"randy lennox"}


@pytest.mark.parametrize(
    "caption",
    [
        "I'M GLAD. I'M CURIOUS. I'M THRILLED. I'M PRETTY SURE. I'M HONESTLY WORRIED.",
        "THIS IS BREAKING NEWS. THIS IS HOCKEY NIGHT IN CANADA. THIS IS SCARY STUFF.",
        "I BELIEVE THE LEAGUE WOULD SAY THIS IS UNAVOIDABLE CONTACT TO THE HEAD.",
        "SOME OF THESE FLURRIES, WITH SCATTERED FLURRIES IN NORTHERN YORK REGION.",
        "SOUTHERN ONTARIO IS IN FOR SOME RAIN. YEAH, ABSOLUTELY, IT IS. YEAH, SURE, IT IS.",
        "THANK YOU, EVERYONE. THANKS, GUYS. CTV'S COVERAGE CONTINUES. LOCAL MEDIA REPORTS.",
        "HE WILL BE PRESENTED WITH THE WALT GREALIS SPECIAL ACHIEVEMENT AWARD AT JUNO WEEK.",
    ],
)
def test_upper_case_words_in_a_name_slot_are_no_name_unless_they_look_like_one(
    caption: str,
) -> None:
    assert names(caption) == set()


def test_places_and_concepts_in_translated_news_are_no_names() -> None:
    # A person's name is capitalised wherever it occurs: a title-cased term the text
    # also writes in lower case is a concept; head words mark places and organisations.
    text = (
        "The Party Central Committee has treated ecological civilization construction as "
        "fundamental. The concept of Ecological Civilization was born in Anji, Zhejiang "
        "Province. Emergency crews reopened Provincial Highway S104 in Yuzhong County, "
        "Gansu Province. Relief went to Gansu and Inner Mongolia. This marks the War of "
        "Resistance Against Japanese Aggression. Shells fell on the Gaza Strip and Puyu "
        "Village's hot springs, and a British-made cruise missile was shot down."
    )
    assert names(text) == set()


def test_people_in_translated_news_are_found_with_unicode_titles_and_possessives() -> None:
    text = (
        "Vice Premier of the State Council Zhang Guoqing visited Lanzhou. Premier Li Qiang "
        "issued instructions. Palestinian President Abbas's spokesperson Nabil Abu Rudeineh "
        "stated on the 8th that talks failed. Hungarian Prime Minister Viktor Orbán spoke, "
        "and WTO Director-General Ngozi Okonjo-Iweala warned. Seven-year-old Dengzeng Dexi "
        "is the little star. My name is Dianji Diexina. Exhibits include Li Tianyou's notes."
    )
    assert names(text) == {
        "zhang guoqing",
        "li qiang",
        "abbas",
        "nabil abu rudeineh",
        "viktor orbán",
        "ngozi okonjo-iweala",
        "dengzeng dexi",
        "dianji diexina",
        "li tianyou",
    }


def test_a_false_name_would_cost_the_run_its_subject() -> None:
    # Why precision matters: a name's words are never candidate phrases.
    text = "The concept of Ecological Civilization guides ecological civilization construction."
    found = find_names([text], "en")
    counts = extract([text] * 2, "en", set(found)).counts
    assert ("ecological", "civilization") in counts


def test_a_word_after_a_title_in_capitals_is_no_name_where_the_run_writes_it_in_lower_case() -> (
    None
):
    # The demo's on-screen "GOVERNMENT MINISTER POLICY" gave "People: Policy": a title's
    # slot takes any word in capitals, though the transcript says "the policy".
    texts = [
        "GOVERNMENT MINISTER POLICY",
        "The policy on government was put to a vote.",
        "REPORTER DANA SMITH",
    ]
    assert set(find_names(texts, "en")) == {"dana smith"}
    # Without the lower-case word there is no telling: the title's slot holds a name.
    assert set(find_names(texts[:1], "en")) == {"policy"}


def test_a_presenter_named_in_speech_is_a_person_with_her_role() -> None:
    people = find_people(["主持人劳春燕", "记者王华庆报道"], "zh")
    assert people.roles == {"劳春燕": "主持人", "王华庆": "记者"}
    assert set(people.names) == {"劳春燕", "王华庆"}


def test_a_network_reporter_named_in_speech_gets_the_network_and_the_role() -> None:
    text = "CBS's Jane Doe reports from the clinic. Dr. Dana Smith says boosters help."
    assert find_people([text], "en").roles == {"jane doe": "CBS reporter", "dana smith": "doctor"}


@pytest.mark.parametrize(
    "screen",
    [
        "陈霞 湖北省武汉市汉阳区龙阳街社区卫生服务中心",  # one line: the name, then the role
        "新闻联播\n陈霞\n湖北省武汉市汉阳区龙阳街社区卫生服务中心",  # two stacked lines
    ],
)
def test_a_name_strap_gives_a_person_with_a_role(screen: str) -> None:
    people = find_people(["老年人接种疫苗"], "zh", [screen])
    assert people.names == Counter({"陈霞": 1})
    assert people.roles == {"陈霞": "湖北省武汉市汉阳区龙阳街社区卫生服务中心"}


def test_an_english_name_strap_gives_a_person_with_a_role() -> None:
    people = find_people(["Boosters are available."], "en", ["JANE DOE\nCBS NEWS"])
    assert people.roles == {"jane doe": "CBS NEWS"}


def test_a_name_strap_with_only_a_name_gives_a_person_without_a_role() -> None:
    people = find_people(["老年人接种疫苗"], "zh", ["陈霞"])
    assert people.names == Counter({"陈霞": 1})
    assert people.roles == {}


def test_words_that_are_no_names_are_never_people() -> None:
    texts = [
        "THANK YOU, DAVID THANK YOU.",  # the thanks repeated are no surname
        "Officials act under the aegis of the ministry.",
        "THIS IS AEGIS",
    ]
    screens = ["AEGIS\nHEALTH", "Booster Shots\nat the clinic", "疫苗接种 老年人"]
    assert find_people(texts, "en", screens).names == Counter({"david": 1})
    assert find_people(["疫苗接种"], "zh", screens).names == Counter()


def test_a_form_of_address_gives_no_role_and_leaves_room_for_a_real_one() -> None:
    texts = ["习近平同志指出，要坚持绿色发展。", "习近平总书记强调，要保护生态。"]
    assert find_people(texts[:1], "zh").roles == {}
    assert find_people(texts, "zh").roles == {"习近平": "总书记"}
