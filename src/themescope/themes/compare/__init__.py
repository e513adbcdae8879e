"""Compare runs jointly: what two (or more) reports share and where they differ.

Two videos on one event (a US and a Chinese news report, say) are analysed as one
study with one video per side (:mod:`themescope.corpus.compare`): one CRVAE over the frames of every
run, text in the multilingual word space, one clustering, so every theme has each
run's share of its airtime. Per theme, what each run says is described as a study
describes a theme, among that run's frames alone; two runs' phrases that mean the
same, across languages (:func:`phrase_similarity`: each run's phrases centred on
their mean, a Chinese phrase also through its English gloss, from
:data:`SAME_MEANING_SIMILARITY`), are ``said_by_both``; a run's phrases that no other
run says anything like, in any theme, are ``only`` its own. A theme is ``shared``
when every run gives it at least ``min_share`` of its airtime.

Separately fitted themes matched one to one (compare.json versions 1 and 2) found
nothing shared on two reports of one event cut differently: each run's text was
centred within the run, which removed what the two had in common. Those files still
read (:func:`themescope.compare_document.read_compare`).

Example:
    >>> from themescope.corpus.compare import compare_runs
    >>> result = compare_runs(["runs/us", "runs/cn"], "runs/us-vs-cn")  # doctest: +SKIP
    >>> [(t.label, t.shares) for t in result.document.themes if t.shared]  # doctest: +SKIP
    [('booster shots', {'us': 0.41, 'cn': 0.36})]
"""
