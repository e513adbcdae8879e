"""Benchmark of the themes stage: K-means backends, the whole stage at scale, phrase embedding.

Run from the repository root::

    python benchmarks/bench_themes.py            # full: 1M-point K-means, 100/1k/100k frames
    python benchmarks/bench_themes.py --quick    # smaller sizes, for a smoke test

It prints three tables side by side and writes bench-out/bench_themes.json:

1. K-means with scikit-learn versus faiss-cpu on the same data (64-d, k=5, one
   initialisation, the same 20 iterations, faiss using every point), at several
   sizes up to 1,000,000 points; this sets ``cluster.FAISS_MIN_POINTS``.
2. The whole themes stage (automatic k in 3–5 with bootstrap, t-SNE, extractive
   tagging, evidence, writing) on synthetic runs of 100, 1,000 and 100,000 frames
   with 64-d latents in 4 groups and per-group vocabularies.
3. Phrase embedding throughput of the bundled all-MiniLM-L6-v2 on the CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from themescope.documents import read_themes
from themescope.embedding import load_embedder
from themescope.manifest import IngestRecord
from themescope.rundir import RunDirectory
from themescope.synthetic import text_frames_table
from themescope.themes.cluster import FAISS_MIN_POINTS, faiss_available, free_cpus, native_threads
from themescope.themes.stage import ThemesConfig, build_themes

VOCAB = [
    "nurse vaccine syringe clinic dose appointment pharmacy booster",
    "senator congress legislation vote debate capitol lawmakers committee",
    "storm rain forecast flood hurricane wind meteorologist evacuation",
    "football stadium coach touchdown team quarterback playoffs fans",
]
SHARED = ["today", "people", "news", "report", "city", "morning"]


def bench_kmeans(sizes: list[int], dim: int, k: int, n_iter: int, seed: int) -> list[dict]:
    """Time both backends for exactly ``n_iter`` iterations on overlapping Gaussian data.

    The groups overlap so that neither backend converges early: both do the same
    work. scikit-learn runs with the threads cluster.py gives it; faiss with its
    default OpenMP threads and with the threads cluster.py gives it (the CPUs not
    already busy).
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    rows = []
    rng = np.random.default_rng(seed)
    for n in sizes:
        x = rng.normal(size=(n, dim)).astype(np.float32)
        x[: n // 2, :3] += 1.0
        t0 = time.perf_counter()
        with native_threads(n):  # as cluster.py runs it
            sk = KMeans(n_clusters=k, n_init=1, max_iter=n_iter, tol=0.0, random_state=seed).fit(x)
        sk_s = time.perf_counter() - t0
        row = {
            "n": n,
            "dim": dim,
            "k": k,
            "sklearn_iters": int(sk.n_iter_),
            "sklearn_s": round(sk_s, 3),
        }
        row["sklearn_inertia"] = round(float(sk.inertia_) / n, 3)
        if faiss_available():
            import faiss

            default_threads = faiss.omp_get_max_threads()
            for label, threads in (("faiss_all", default_threads), ("faiss_free", free_cpus())):
                faiss.omp_set_num_threads(threads)
                t0 = time.perf_counter()
                fk = faiss.Kmeans(
                    dim, k, niter=n_iter, nredo=1, seed=seed, max_points_per_centroid=n
                )
                fk.train(x)
                distances, labels = fk.index.search(x, 1)
                row[f"{label}_threads"] = threads
                row[f"{label}_s"] = round(time.perf_counter() - t0, 3)
            faiss.omp_set_num_threads(default_threads)
            row["faiss_inertia"] = round(float(distances.sum()) / n, 3)
            row["speedup_free"] = round(sk_s / row["faiss_free_s"], 2)
            row["agreement_ari"] = round(float(adjusted_rand_score(sk.labels_, labels[:, 0])), 3)
        row["load"] = round(os.getloadavg()[0], 1)
        rows.append(row)
        print(_fmt_row(row), flush=True)
    return rows


def make_run(path: Path, n: int, dim: int, seed: int) -> None:
    """Write a run with ingest and train done: 4 groups in blocks of 6 frames, with texts."""
    rng = np.random.default_rng(seed)
    truth = (np.arange(n) // 6) % 4
    centers = rng.normal(scale=4.0, size=(4, dim))
    latents = (centers[truth] + rng.normal(size=(n, dim))).astype(np.float32)
    vocab = [np.array(v.split()) for v in VOCAB]
    shared = np.array(SHARED)
    texts = [
        " ".join([*rng.choice(vocab[t], 4), *rng.choice(shared, 2)]) + "." if i % 7 else ""
        for i, t in enumerate(truth)
    ]
    run = RunDirectory(path)
    with run.stage("ingest", stage_fingerprint=f"bench-{n}", config={}) as st:
        times = np.arange(n) * 2.0
        pq.write_table(text_frames_table(times, times, texts), st.path("frames.parquet"))
        st.record = IngestRecord(n_frames=n, every_s=2.0, lang="en")
    with run.stage("train", stage_fingerprint=f"bench-{n}", config={}) as st:
        np.save(st.path("latents.npy"), latents)


def bench_stage(sizes: list[int], dim: int, seed: int, embedder) -> list[dict]:
    from sklearn.metrics import adjusted_rand_score

    rows = []
    root = Path(tempfile.mkdtemp(prefix="bench-themes-"))
    try:
        for n in sizes:
            path = root / f"run-{n}"
            make_run(path, n, dim, seed)
            t0 = time.perf_counter()
            result = build_themes(path, ThemesConfig(seed=seed), embedder=embedder)
            total = time.perf_counter() - t0
            document = read_themes(path / "themes.json")
            record = RunDirectory(path).record("themes") or {}
            truth = (np.arange(n) // 6) % 4
            row = {
                "n_frames": n,
                "dim": dim,
                "total_s": round(total, 2),
                "load": round(os.getloadavg()[0], 1),
                "k": document.k,
                "ari": round(float(adjusted_rand_score(truth, result.labels)), 3),
                "cluster_backend": document.backends.cluster,
                "projection": document.projection.method,
                **{k: round(v, 2) for k, v in record.get("timings", {}).items() if k != "total_s"},
            }
            rows.append(row)
            print(_fmt_row(row), flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return rows


def bench_embedding(embedder, n_phrases: int, seed: int) -> list[dict]:
    """Phrases per second with torch's default threads and with one thread.

    The embedder itself never uses more threads than there are idle CPUs, so the
    first row runs with min(default, free_cpus).
    """
    import torch

    rng = np.random.default_rng(seed)
    words = " ".join(VOCAB + SHARED).split()
    rows = []
    default_threads = torch.get_num_threads()
    for threads in dict.fromkeys((default_threads, 1)):
        torch.set_num_threads(threads)
        # fresh phrases each round: the embedder caches what it has seen
        phrases = list(
            dict.fromkeys(
                " ".join(rng.choice(words, rng.integers(1, 4))) + f" {threads}-{i}"
                for i in range(n_phrases)
            )
        )
        embedder.embed([f"warm up {threads}"])
        t0 = time.perf_counter()
        embedder.embed(phrases)
        seconds = time.perf_counter() - t0
        row = {
            "model": embedder.name,
            "torch_threads_max": threads,
            "free_cpus": free_cpus(),
            "n_phrases": len(phrases),
            "seconds": round(seconds, 2),
            "phrases_per_s": round(len(phrases) / seconds, 1),
            "load": round(os.getloadavg()[0], 1),
        }
        rows.append(row)
        print(_fmt_row(row), flush=True)
    torch.set_num_threads(default_threads)
    return rows


def _torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


def _fmt_row(row: dict) -> str:
    return "  ".join(f"{k}={v}" for k, v in row.items())


def _table(title: str, rows: list[dict]) -> str:
    if not rows:
        return f"{title}: (none)"
    keys = list(dict.fromkeys(k for row in rows for k in row))
    widths = {k: max(len(k), *(len(str(row.get(k, ""))) for row in rows)) for k in keys}
    lines = [title, "  ".join(k.rjust(widths[k]) for k in keys)]
    lines += ["  ".join(str(row.get(k, "")).rjust(widths[k]) for k in keys) for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (smoke test)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("bench-out/bench_themes.json"))
    args = parser.parse_args()
    kmeans_sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 300_000, 1_000_000]
    stage_sizes = [100, 1_000] if args.quick else [100, 1_000, 100_000]

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}; faiss installed: {faiss_available()}; "
        f"FAISS_MIN_POINTS={FAISS_MIN_POINTS}",
        flush=True,
    )
    print("-- K-means: scikit-learn vs faiss (64-d, k=5, 20 iterations, 1 init)", flush=True)
    kmeans_rows = bench_kmeans(kmeans_sizes, dim=64, k=5, n_iter=20, seed=args.seed)
    embedder = load_embedder(None)
    print("-- phrase embedding throughput (CPU)", flush=True)
    embed_rows = bench_embedding(embedder, 300 if args.quick else 1000, args.seed)
    print("-- whole themes stage (64-d latents, automatic k in 3-5)", flush=True)
    stage_rows = bench_stage(stage_sizes, dim=64, seed=args.seed, embedder=embedder)

    print()
    print(_table("K-means (seconds)", kmeans_rows))
    wins = [
        r["n"] for r in kmeans_rows if "faiss_free_s" in r and r["faiss_free_s"] < r["sklearn_s"]
    ]
    losing_after = [r["n"] for r in kmeans_rows if wins and r["n"] > wins[0] and r["n"] not in wins]
    verdict = (
        f"from {wins[0]:,} points" if wins and not losing_after else "not consistently at any size"
    )
    print(f"faiss beats scikit-learn {verdict} (FAISS_MIN_POINTS is {FAISS_MIN_POINTS})")
    print()
    print(_table("themes stage (seconds)", stage_rows))
    print()
    print(_table("phrase embedding", embed_rows))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "schema_version": 1,
                "cpus": os.cpu_count(),
                "load_average": os.getloadavg()[0],
                "kmeans": kmeans_rows,
                "stage": stage_rows,
                "embedding": embed_rows,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
