"""Both executors run the same function over items with the same outcomes, failures included.

The Ray tests start one local Ray instance with 2 CPUs for the whole module (its start
takes seconds) and shut it down at the end; they are skipped where Ray is not installed.
The task functions live at module level: the workers import them from here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from themescope.corpus.executors import Executor, TaskFailure, load_executor
from themescope.errors import ConfigError

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"


def square(x: int) -> int:
    return x * x


def fails_when_odd(x: int) -> int:
    if x % 2:
        raise ValueError(f"item {x} is\nodd")
    return x


def dies_on_two(x: int) -> int:
    if x == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def exits_on_two(x: int) -> int:
    if x == 2:
        os._exit(3)
    return x


def sleeps(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def how_it_runs(x: int) -> tuple[int, str | None]:
    return x * x, os.environ.get("OMP_NUM_THREADS")


@pytest.fixture(scope="module")
def local_executor() -> Iterator[Executor]:
    with load_executor("local", workers=2) as executor:
        yield executor


def environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "PYTEST_CURRENT_TEST"}


@pytest.fixture(scope="module")
def ray_executor() -> Iterator[Executor]:
    ray = pytest.importorskip("ray")
    assert not ray.is_initialized()
    environ = environment()
    executor = load_executor("ray", workers=2)
    try:
        executor.check()
        yield executor
    finally:
        started = ray_processes()
        executor.close()
        assert not ray.is_initialized()
        assert sys.platform != "linux" or started, "no Ray process found"
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in started if alive(pid)], "Ray left processes behind"
        # ray.init's changes (PYTHONBREAKPOINT, RAY_AUTH_MODE, ...) are undone
        assert environment() == environ


@pytest.fixture(params=["local", "ray"])
def executor(request: pytest.FixtureRequest) -> Executor:
    fixture: Executor = request.getfixturevalue(f"{request.param}_executor")
    return fixture


def python_path(*folders: Path) -> str:
    """PYTHONPATH with ``folders`` and this checkout's source first."""
    return os.pathsep.join([*map(str, folders), str(SRC), os.environ.get("PYTHONPATH", "")])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def ray_processes() -> list[int]:
    """The Ray processes under this one (GCS, raylet, agents, workers); none off Linux."""
    if sys.platform != "linux":
        return []
    children: dict[int, list[int]] = {}
    for folder in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            parent = int((folder / "stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(folder.name))
    found, todo = [], [os.getpid()]
    while todo:
        for pid in children.get(todo.pop(), []):
            todo.append(pid)
            with contextlib.suppress(OSError):
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
                if command.startswith(b"ray::") or b"/ray/" in command:
                    found.append(pid)
    return found


# -- the Ray cluster test comes first: it connects this process to a cluster of its own,
# -- so it must run before the module's local Ray instance starts


@pytest.mark.slow
def test_ray_cluster_outlives_a_study_that_disconnects(monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        pytest.skip("this process is already connected to Ray")
    head_script = textwrap.dedent(
        """
        import logging, sys, ray
        ray.init(num_cpus=1, include_dashboard=False, logging_level=logging.ERROR)
        print(ray.get_runtime_context().gcs_address, flush=True)
        sys.stdin.readline()
        print(ray.get(ray.remote(lambda: "alive").remote()), flush=True)
        ray.shutdown()
        """
    )
    # Ray sends no token to an explicit address unless RAY_AUTH_MODE=token was set before
    # it was imported; this test's cluster, on this machine only, asks for none
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    head = subprocess.Popen(
        [sys.executable, "-c", head_script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        # every node of a cluster has the code its tasks run: here, this module
        env={**os.environ, "RAY_AUTH_MODE": "disabled", "PYTHONPATH": python_path(HERE)},
    )
    try:
        assert head.stdout is not None and head.stdin is not None
        address = head.stdout.readline().strip()
        assert address, "the head did not start"
        with load_executor("ray", address=address) as executor:
            assert executor.n_workers == 1
            assert dict(executor.map(square, range(3))) == {0: 0, 1: 1, 2: 4}
        assert not ray.is_initialized()
        head.stdin.write("\n")
        head.stdin.flush()
        assert head.stdout.readline().strip() == "alive"
        assert head.wait(timeout=60) == 0
    finally:
        if head.poll() is None:  # a failure above: let the head shut its cluster down
            with contextlib.suppress(OSError):
                head.stdin.close()  # type: ignore[union-attr]
            try:
                head.wait(timeout=60)
            except subprocess.TimeoutExpired:
                head.kill()
                head.wait()


def test_every_item_gives_its_result(executor: Executor) -> None:
    outcomes = list(executor.map(square, range(6)))
    assert sorted(index for index, _ in outcomes) == list(range(6))
    assert dict(outcomes) == {i: i * i for i in range(6)}


def test_no_items_no_outcomes(executor: Executor) -> None:
    assert list(executor.map(square, [])) == []


def test_both_executors_give_identical_results(
    local_executor: Executor, ray_executor: Executor
) -> None:
    items = list(range(5))
    for fn in (how_it_runs, fails_when_odd):
        assert sorted(local_executor.map(fn, items)) == sorted(ray_executor.map(fn, items))
    # each task gets the threads Ray gives a one-CPU task
    expected = os.environ.get("OMP_NUM_THREADS", "1")
    assert {threads for _, (_, threads) in ray_executor.map(how_it_runs, items)} == {expected}


def test_an_exception_fails_its_task_only(executor: Executor) -> None:
    outcomes = dict(executor.map(fails_when_odd, range(5)))
    assert {i: outcomes[i] for i in (0, 2, 4)} == {0: 0, 2: 2, 4: 4}
    for i in (1, 3):
        failure = outcomes[i]
        assert isinstance(failure, TaskFailure)
        assert failure.message == f"ValueError: item {i} is odd"
        assert "fails_when_odd" in failure.detail  # the traceback, for a log


@pytest.mark.parametrize(
    ("fn", "local_message"),
    [
        (dies_on_two, "worker process died (signal 9, SIGKILL: killed, often by the kernel"),
        (exits_on_two, "worker process died (exit status 3)"),
    ],
)
def test_a_dying_worker_fails_its_task_only(
    executor: Executor, fn: object, local_message: str
) -> None:
    outcomes = dict(executor.map(fn, range(5)))  # type: ignore[arg-type]
    assert {i: outcomes[i] for i in (0, 1, 3, 4)} == {0: 0, 1: 1, 3: 3, 4: 4}
    failure = outcomes[2]
    assert isinstance(failure, TaskFailure)
    assert failure.message.startswith("worker process died (")
    assert "\n" not in failure.message
    if executor.name == "local":
        assert failure.message.startswith(local_message)
    # the executor goes on with a new worker
    assert dict(executor.map(square, [3])) == {0: 9}


def test_leaving_the_loop_stops_the_running_tasks(local_executor: Executor) -> None:
    started = time.monotonic()
    outcomes = local_executor.map(sleeps, [0.0, 60.0])
    assert next(outcomes) == (0, 0.0)
    outcomes.close()
    assert time.monotonic() - started < 30
    assert dict(local_executor.map(square, [2])) == {0: 4}


def test_an_unpicklable_function_is_refused_before_work() -> None:
    with load_executor("local", workers=1) as executor, pytest.raises(Exception, match="pickle"):
        list(executor.map(lambda x: x, [1]))


def test_unknown_executor_name() -> None:
    # Where Ray is missing the list says so after the names: "ray (unavailable here: ...)".
    with pytest.raises(ConfigError, match=r"--executor must be one of local, ray\b.*Got 'dask'"):
        load_executor("dask")


def test_a_ray_address_needs_the_ray_executor() -> None:
    with pytest.raises(ConfigError, match="--ray-address needs --executor ray"):
        load_executor("local", address="auto")


@pytest.mark.parametrize("name", ["local", "ray"])
def test_workers_must_be_at_least_one(name: str) -> None:
    if name == "ray":
        pytest.importorskip("ray")
    with pytest.raises(ConfigError, match=r"--workers must be at least 1\. Got 0 instead"):
        load_executor(name, workers=0).check()


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_a_ray_address_nothing_listens_on_fails_within_seconds(scheme: str) -> None:
    pytest.importorskip("ray")
    executor = load_executor("ray", address=f"{scheme}127.0.0.1:{free_port()}")
    started = time.monotonic()
    with pytest.raises(ConfigError, match=r"nothing answers at Ray address .*refused"):
        executor.check()
    assert time.monotonic() - started < 10


def test_a_ray_address_where_something_else_listens_fails_within_seconds() -> None:
    pytest.importorskip("ray")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        accepted: list[socket.socket] = []
        threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True).start()
        executor = load_executor("ray", address=f"127.0.0.1:{server.getsockname()[1]}")
        started = time.monotonic()
        with pytest.raises(ConfigError, match="not a Ray cluster"):
            executor.check()
        assert time.monotonic() - started < 10
        for connection in accepted:
            connection.close()


@pytest.mark.parametrize("address", ["nowhere", "host:port", "ray://:6379"])
def test_a_malformed_ray_address(address: str) -> None:
    pytest.importorskip("ray")
    with pytest.raises(ConfigError, match="--ray-address must be auto, HOST:PORT"):
        load_executor("ray", address=address).check()


def test_workers_do_not_size_a_cluster() -> None:
    pytest.importorskip("ray")
    with pytest.raises(ConfigError, match="--workers sizes a local Ray instance"):
        load_executor("ray", workers=2, address="auto").check()


WORKER_SCRIPT = """
import os, signal, sys, time
from pathlib import Path
from themescope.corpus.executors import load_executor

# Ctrl-C as from a terminal: a suite run in a shell's background job hands its children
# SIGINT ignored, and this caller would never see the test's Ctrl-C.
signal.signal(signal.SIGINT, signal.default_int_handler)

def wait_here(folder):
    Path(folder, str(os.getpid())).touch()
    time.sleep(120)

if __name__ == "__main__":
    with load_executor("local", workers=2) as executor:
        list(executor.map(wait_here, [sys.argv[1]] * 2))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "sigkill"])
def test_stopping_the_caller_leaves_no_worker_behind(tmp_path: Path, sig: signal.Signals) -> None:
    script = tmp_path / "study.py"
    script.write_text(WORKER_SCRIPT)
    pids = tmp_path / "pids"
    pids.mkdir()
    env = {**os.environ, "PYTHONPATH": python_path()}
    # a session of its own: Ctrl-C in a terminal signals the whole foreground group
    caller = subprocess.Popen(
        [sys.executable, str(script), str(pids)],
        env=env,
        start_new_session=True,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(list(pids.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = [int(path.name) for path in pids.iterdir()]
        assert len(workers) == 2, "the workers did not start"
        os.killpg(caller.pid, sig)
        caller.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in workers)
        assert caller.stderr is not None
        # the caller's KeyboardInterrupt is the only traceback: none from the workers
        assert caller.stderr.read().count("KeyboardInterrupt") <= 1
    finally:
        if caller.poll() is None:
            caller.kill()
            caller.wait()


def test_a_script_without_a_main_guard_is_told_why(tmp_path: Path) -> None:
    script = tmp_path / "study.py"
    script.write_text(
        "from themescope.corpus.executors import load_executor\n"
        "with load_executor('local', workers=1) as executor:\n"
        "    print(list(executor.map(abs, [-1])))\n"
    )
    env = {**os.environ, "PYTHONPATH": python_path()}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert 'if __name__ == "__main__":' in done.stderr.splitlines()[-1]
