"""Read the words spoken in a video: subtitle files, transcripts and embedded streams.

:func:`read_transcript` reads a subtitle or transcript file in any format it
knows (:mod:`.files`, with the encoding found by :mod:`.encoding`), and
:func:`read_embedded_subtitles` a text subtitle stream of the video
(:mod:`.embedded`). Whatever the source, the cues go through the same clean-up
(:func:`build_transcript`, :mod:`.cues`), which strips their markup
(:func:`clean_markup`, :mod:`.markup`) and returns a :class:`Transcript`.
"""

from themescope.media.transcripts.cues import Cue, Transcript, build_transcript
from themescope.media.transcripts.embedded import read_embedded_subtitles
from themescope.media.transcripts.files import read_transcript
from themescope.media.transcripts.markup import clean_markup

__all__ = [
    "Cue",
    "Transcript",
    "build_transcript",
    "clean_markup",
    "read_embedded_subtitles",
    "read_transcript",
]
