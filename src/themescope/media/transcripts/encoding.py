"""Find the text encoding of a subtitle or transcript file.

:func:`_decode` takes a given encoding, else a byte-order mark, UTF-16 without
one, UTF-8, and last charset-normalizer's guess, which for East Asian text is
checked against the characters most frequent in Chinese, Japanese and Korean;
:func:`codec_name` checks an encoding a user names.
"""

from __future__ import annotations

import codecs
import logging
from pathlib import Path

from themescope.errors import ConfigError, SubtitleParseError

logger = logging.getLogger("themescope")


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# UTF-16 without a byte-order mark is recognised by where its NUL bytes fall in the
# first _UTF16_SNIFF_BYTES: at one parity in at least _UTF16_NUL_SHARE of the
# characters (a few words of English among Chinese still count), at the other in at
# most _UTF16_STRAY_NUL_SHARE (U+0100, U+0200 ... are rare), and the decoded text
# must be _UTF16_PRINTABLE_SHARE printable.
_UTF16_SNIFF_BYTES = 4096
_UTF16_NUL_SHARE = 0.3
_UTF16_STRAY_NUL_SHARE = 0.02
_UTF16_PRINTABLE_SHARE = 0.95
_EAST_ASIAN_CANDIDATES = ("gb18030", "big5", "cp949", "shift_jis", "euc_jp")
_EAST_ASIAN_CODECS = frozenset(
    (*_EAST_ASIAN_CANDIDATES, "big5hkscs", "cp950", "euc_kr", "johab", "cp932", "iso2022_jp", "hz")
)
# The most frequent characters of news Chinese (simplified and traditional
# forms), Japanese kana and Korean syllables: a correct decoding is full of them.
_COMMON_CJK = frozenset(
    "的一是不了在人有我他这個个们們中来來上大为為和国國地到以说說时時要就出会會可也你对對生能"
    "而子那得于於着著下自之年过過发發后後作里裡用道行所然家种種事成方多经經么麼去法学學如都同"
    "现現当當没沒动動面起看定天分还還进進好小部其些主样樣理心她本前开開但因只从從想实實日军軍"
    "者意无無力它与與长長把机機十民第公此已工使情明性知全三又关關点點正业業外将將两兩高间間由"
    "问問很最重并並物手应應战戰向头頭文体體政美相见見被利什二等产產或新己制身果加西月话話合回"
    "特代内內信表化老给給世位次度门門任常先海通教儿兒原东東声聲提立及比员員解水名真论論处處走"
    "义義各入几幾口认認条條平系气氣题題活更别別打女变變四总總何电電数數安少报報才结結反受目太"
    "量再感建务務做接必场場件计計管期市直资資命山金指许許统統区區保至队隊形社便空决決治展马馬"
    "科司五基书書非则則听聽白界达達光放强強即像难難且权權思王完设設式色路记記南品住告类類求据"
    "據程北边邊死张張该該交规規万萬取格望觉覺领領共确確传傳师師观觀清今院让讓识識带帶导導争爭"
    "运運风風步改收根造言联聯持组組每济濟车車亲親极極服快办辦议議往元英士证證近失转轉令准準"
    "始存未远遠叫台单單影具字爱愛击擊流备備兵连連调調深商算质質团團集百需价價花党黨华華城级級"
    "整府离離况況请請技际際约約示复復病息究线線似官火断斷精满滿支视視消越器容照须須九增研写寫"
    "称稱企八功吗嗎包片史委查轻輕易早除农農找装裝广廣显顯图圖念六引历歷首医醫局突专專费費号號"
    "周较較注语語考落青随隨选選列武红紅响響虽雖推势勢希古众眾构構房半节節土投案黑维維革划劃致"
    "律足态態护護七兴興派孩验驗责責营營星够夠章音跟志底站严嚴例防族供效续續施留讲講型料终終答"
    "紧緊黄黃疫苗接新闻聞播今天欢歡迎收看气候候早晚情况病毒健康医院市场经济政府总统記者报道"
    "，。？！、：；“”‘’（）《》…"
    "のにはをたがでてとしれさかなるいもうありすこまっ"
    "이다는의에가을고하서한지기로도를으나사대리와수게아자주해시보정인어니일그것우전들여부제만"
)
# charset-normalizer names GBK text "gb18030" or "gbk"; gb18030 decodes both.
_ENCODING_ALIASES = {"gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030", "ascii": "utf-8"}


def codec_name(encoding: str) -> str:
    """Return Python's name of the codec ``encoding`` names (``latin-1`` → ``iso8859-1``).

    Raises:
        ConfigError: No codec has that name.
    """
    try:
        return codecs.lookup(encoding).name
    except LookupError as ex:
        raise ConfigError(f"unknown subtitle encoding {encoding!r}") from ex


def _decode(data: bytes, path: Path, encoding: str | None) -> tuple[str, str]:
    """Return the text of ``data`` and the codec name it was decoded with."""
    if encoding is not None:
        codec = codec_name(encoding)
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as ex:
            raise SubtitleParseError(
                f"{path} is not valid {encoding}: byte {ex.start} "
                f"({data[ex.start : ex.start + 1]!r}) cannot be decoded; "
                "leave the encoding out to detect it"
            ) from ex
        return text.removeprefix("\ufeff"), codec
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec).removeprefix("\ufeff"), codec
            except UnicodeDecodeError:
                break
    # Before UTF-8: UTF-16 text in a Latin script is valid UTF-8 too, full of NULs.
    sniffed = _utf16_without_bom(data)
    if sniffed is not None:
        return sniffed
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise SubtitleParseError(
            f"{path} is not text in any encoding charset-normalizer knows (a binary file?); "
            "give the encoding explicitly if it is text"
        )
    codec = codecs.lookup(best.encoding).name
    codec = _ENCODING_ALIASES.get(codec, codec)
    if codec in _EAST_ASIAN_CODECS:
        codec = _best_east_asian(data, codec)
    return data.decode(codec, errors="replace").removeprefix("\ufeff"), codec


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """Return the text and codec of UTF-16 ``data`` without a byte-order mark, else None.

    Text in a Latin script has a NUL as the high byte of nearly every character:
    at odd offsets in little-endian, at even offsets in big-endian, and almost
    never at the other parity. A decoding is accepted only if it is clean and
    printable, so binary data full of zeros is not taken for text.
    """
    sample = data[:_UTF16_SNIFF_BYTES]
    if len(sample) < 4 or len(data) % 2:
        return None
    n_pairs = len(sample) // 2
    nul_even = sample[0::2].count(0) / n_pairs
    nul_odd = sample[1::2].count(0) / n_pairs
    if nul_odd >= _UTF16_NUL_SHARE and nul_even <= _UTF16_STRAY_NUL_SHARE:
        codec = "utf-16-le"
    elif nul_even >= _UTF16_NUL_SHARE and nul_odd <= _UTF16_STRAY_NUL_SHARE:
        codec = "utf-16-be"
    else:
        return None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    n_printable = sum(char.isprintable() or char.isspace() for char in text[:_UTF16_SNIFF_BYTES])
    if "\x00" in text or n_printable < _UTF16_PRINTABLE_SHARE * min(len(text), _UTF16_SNIFF_BYTES):
        return None
    return text, codec


def _best_east_asian(data: bytes, guess: str) -> str:
    """Return the East Asian codec whose decoding of ``data`` reads most like real text.

    charset-normalizer needs a few hundred characters to tell GBK from Big5 or
    Korean: a short GBK file ("大家好") comes back as Big5 or CP949. Each
    candidate that decodes the bytes cleanly is scored by the share of its
    non-ASCII characters that are among the most frequent characters of
    Chinese, Japanese and Korean; a wrong codec yields rare characters.
    """
    best_codec, best_score = guess, -1.0
    for codec in dict.fromkeys((guess, *_EAST_ASIAN_CANDIDATES)):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        wide = [c for c in text if ord(c) > 0x7F]
        score = sum(c in _COMMON_CJK for c in wide) / len(wide) if wide else 0.0
        if score > best_score:
            best_codec, best_score = codec, score
    if best_codec != guess:
        logger.debug("encoding %s read better than charset-normalizer's %s", best_codec, guess)
    return best_codec
