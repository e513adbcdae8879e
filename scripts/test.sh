#!/usr/bin/env bash
# Install everything the test suite needs, then run the checks and the whole suite.
# Used as-is by CI (.ci/run) and by developers: `bash scripts/test.sh [pytest args]`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${VIRTUAL_ENV:-}" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi

# torch is pinned exactly: a looser requirement pulls the CUDA build (several GB).
python -m pip install --quiet torch==2.13.0
python -m pip install --quiet -e ".[test]"

# The browser tests drive Debian's Chromium (no browser downloads); CJK fonts let Chinese render.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null
  else
    echo "note: chromium/chromium-driver/fonts-noto-cjk are missing and cannot be installed here; browser tests will be skipped" >&2
  fi
fi

ruff check src tests benchmarks
ruff format --check src tests benchmarks
mypy
# faulthandler prints the Python stacks when a native library crashes during the run, instead
# of a bare exit status 139 (a crash in C++ destructors after interpreter shutdown, like issue 8's
# oneDNN one, is past its reach and still shows only the status); in the workers pytest's own
# faulthandler plugin does the same for a crash during a test.
# Two workers: most tests hold one core (torch and the embedder on one thread), so on two cores
# the suite takes about 60% of its time on one worker. --dist loadfile keeps a module on one
# worker, so that its module-scoped runs and studies are built once. A worker that crashes after
# its last test goes unreported (pytest-xdist 3.8): so the whole suite ends with a run of the
# pipeline from video to comparison (torch, the embedder, jieba, glosses) and of on-screen text
# (onnxruntime) in one plain process, whose status shows a crash at exit.
python -X faulthandler -m pytest -n auto --maxprocesses 2 --dist loadfile "$@"
if [ "$#" -eq 0 ]; then
  python -X faulthandler -m pytest -q \
    tests/test_compare.py::test_english_and_chinese_runs_share_themes_in_one_space tests/test_ocr.py
fi
