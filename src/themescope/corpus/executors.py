"""Executors: one function over many items in parallel, on this machine or on a Ray cluster.

A corpus study does the same work for every video (ingest, in practice). An
:class:`Executor` runs ``fn(item)`` for each item and yields ``(index, outcome)``
as the tasks finish, where the outcome is whatever ``fn`` returned or a
:class:`TaskFailure`: one task that raises, or that kills the process running it,
fails alone and the others go on. The caller orders the outcomes by index, so
both executors give identical results for the same function and items.

- ``local`` (:class:`LocalExecutor`, the default): worker processes on this
  machine, one per usable core unless told otherwise.
- ``ray`` (:class:`RayExecutor`, ``pip install "themescope[ray]"``): the same
  function as Ray tasks, on a local Ray instance or an existing cluster.

Both run each task in another process, so ``fn`` must be importable there (a
module-level function of an installed package, or a :func:`functools.partial`
of one) and ``fn``, the items and the results must be picklable. Each task gets
one OpenMP thread unless ``OMP_NUM_THREADS`` is set, as Ray gives a one-CPU
task, so a task computes the same way under either executor and N workers do
not fight over N cores. Paths in items and results must mean the same file on
every worker: on a cluster, put the videos and the study folder on storage
every node mounts at the same path (NFS, say).

Example:
    >>> from themescope.corpus.executors import TaskFailure, load_executor
    >>> with load_executor("local", workers=2) as executor:  # doctest: +SKIP
    ...     outcomes = dict(executor.map(math.sqrt, [4.0, -1.0]))
    >>> outcomes  # doctest: +SKIP
    {0: 2.0, 1: TaskFailure(message='ValueError: math domain error')}
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import importlib.util
import logging
import multiprocessing
import os
import pickle
import re
import signal
import socket
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeAlias, TypeVar

from themescope import registry
from themescope.devices import usable_cores
from themescope.errors import ConfigError

if TYPE_CHECKING:
    from multiprocessing.context import SpawnContext, SpawnProcess

logger = logging.getLogger("themescope")

T = TypeVar("T")
R = TypeVar("R")

RAY_INSTALL_HINT = 'pip install "themescope[ray]"'

MAX_MESSAGE_CHARS = 1000
"""A failure's one-line message is cut here: some exceptions quote a whole input."""

STOP_WAIT_S = 5.0
"""How long a worker may take to stop after being told (or sent SIGTERM) before SIGKILL."""

CONNECT_TIMEOUT_S = 5.0
"""How long the Ray address may take to accept a TCP connection, then to answer gRPC."""

_READY = b"ready"
_STOP = b""


@dataclasses.dataclass(frozen=True)
class TaskFailure:
    """Why one task gave no result; the outcome in its place.

    Attributes:
        message: One line: the exception's type and message (``"ValueError: bad
            frame rate"``), or how the process running it died (``"worker process
            died (signal 11, SIGSEGV)"``). The same for both executors.
        detail: The traceback where there is one, for a log file; not compared.
    """

    message: str
    detail: str = dataclasses.field(default="", compare=False, repr=False)


Outcomes: TypeAlias = Iterator[tuple[int, R | TaskFailure]]
"""What :meth:`Executor.map` yields: each item's index, and its result or its failure."""


class Executor(abc.ABC):
    """Runs one function over many items in parallel and yields each outcome as it finishes.

    Use it as a context manager, or call :meth:`close`. Run one :meth:`map` at a time.

    Example:
        >>> with load_executor("local") as executor:  # doctest: +SKIP
        ...     executor.check()
        ...     for index, outcome in executor.map(ingest_video, videos):
        ...         print(index, outcome)
    """

    name: ClassVar[str]
    """The name that :func:`load_executor` and ``--executor`` take."""

    @property
    @abc.abstractmethod
    def n_workers(self) -> int:
        """How many tasks run at once (for messages and benchmarks); may start the executor."""

    @abc.abstractmethod
    def check(self) -> None:
        """Make sure the executor can run, before any work: raise ConfigError if it cannot.

        Calling it again does nothing; :meth:`map` calls it.
        """

    @abc.abstractmethod
    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Outcomes[R]:
        """Run ``fn(item)`` for each item; yield ``(index, result or TaskFailure)`` as each ends.

        Every index of ``items`` comes exactly once, in the order the tasks finish.
        Leaving the loop early (or Ctrl-C) stops the tasks still running.

        Raises:
            ConfigError: The executor cannot run (see :meth:`check`).
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Stop the workers (or disconnect); calling it twice is harmless."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def load_executor(name: str, *, workers: int | None = None, address: str | None = None) -> Executor:
    """Return the executor called ``name``: ``local`` or ``ray``; nothing starts yet.

    Args:
        name: A registered executor: ``local`` (worker processes on this machine) or
            ``ray``; another registers a factory ``(*, workers, address) -> Executor``.
        workers: Tasks at once on this machine: local worker processes, or the
            CPUs of a local Ray instance. None: one per usable core.
        address: Ray only: an existing cluster (``auto``, ``HOST:PORT`` or
            ``ray://HOST:PORT``); None starts a local Ray instance (unless
            ``RAY_ADDRESS`` names a cluster, as in Ray itself).

    Raises:
        ConfigError: The name is unknown, ``workers`` is below 1, or an address was given
            for ``local``.
    """
    _check_workers(workers)
    chosen = registry.find("executor", name)
    if chosen is None:
        raise ConfigError(
            f"--executor must be one of {registry.describe('executor')}. Got {name!r} instead."
        )
    executor: Executor = chosen.factory(workers=workers, address=address)
    return executor


class LocalExecutor(Executor):
    """Worker processes on this machine: the default executor, no Ray needed.

    The workers start on the first :meth:`map` and serve one task at a time
    until :meth:`close`. A worker that dies (a crash in native code, the kernel's
    out-of-memory killer, ``os._exit``) fails only the task it was running; a new
    one takes its place. Ctrl-C, leaving the loop early or an error stops every
    worker; workers whose parent is killed exit by themselves.

    Workers are started with the "spawn" method (a fresh interpreter), never
    forked: a fork copies the parent's threads' locks in whatever state they
    are (torch's and OpenMP's thread pools hang or crash in a forked child).
    "spawn" imports the caller's main script again in each worker, so a script
    that calls themescope must do it under ``if __name__ == "__main__":``.

    Args:
        workers: Worker processes; None: one per usable core (:func:`usable_cores`).
            Never more than there are items.

    Example:
        >>> with LocalExecutor(workers=2) as executor:  # doctest: +SKIP
        ...     sorted(executor.map(abs, [-1, -2, -3]))
        [(0, 1), (1, 2), (2, 3)]
    """

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers
        self._workers: list[_Worker] = []

    @property
    def n_workers(self) -> int:
        """Worker processes that :meth:`map` runs (fewer when there are fewer items)."""
        return self.workers if self.workers is not None else usable_cores()

    def check(self) -> None:
        """Raise ConfigError if ``workers`` is below 1."""
        _check_workers(self.workers)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Outcomes[R]:
        """Run ``fn(item)`` in the worker processes; see :meth:`Executor.map`.

        Raises:
            ConfigError: ``workers`` is below 1, or a worker exited while starting.
            pickle.PicklingError, TypeError, AttributeError: ``fn`` or an item cannot
                be pickled (a lambda, a function defined inside another).
        """
        self.check()
        pickle.dumps(fn)  # an unpicklable function fails here, before any worker starts
        todo = deque(enumerate(items))
        finished = False
        try:
            while todo or any(worker.task is not None for worker in self._workers):
                self._hand_out(fn, todo)
                busy = [worker for worker in self._workers if worker.task is not None]
                ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
                for worker in busy:
                    if worker.conn in ready or worker.process.sentinel in ready:
                        outcome = self._receive(worker)
                        if outcome is not None:
                            yield outcome
            finished = True
        finally:
            if not finished:
                # Ctrl-C, an error, or the caller left the loop: nobody wants the
                # tasks still running, so the workers stop now, not when they end.
                self._stop(terminate=True)

    def close(self) -> None:
        """Stop the worker processes."""
        self._stop(terminate=False)

    def _hand_out(self, fn: Callable[[Any], Any], todo: deque[tuple[int, Any]]) -> None:
        """Start workers up to what the remaining tasks need, and give each idle one a task."""
        context = multiprocessing.get_context("spawn")
        while todo:
            n_busy = sum(worker.task is not None for worker in self._workers)
            if len(self._workers) < min(self.n_workers, n_busy + len(todo)):
                self._workers.append(_Worker(context))
            idle = next((worker for worker in self._workers if worker.task is None), None)
            if idle is None:
                return
            index, item = todo[0]
            try:
                idle.conn.send_bytes(pickle.dumps((fn, item), protocol=pickle.HIGHEST_PROTOCOL))
            except OSError:  # it died while idle (killed from outside): another takes its place
                self._workers.remove(idle)
                idle.reap()
                continue
            todo.popleft()
            idle.task = index

    def _receive(self, worker: _Worker) -> tuple[int, Any] | None:
        """What a busy worker said, or how it died: its task's outcome, or None for "ready"."""
        index = worker.task
        assert index is not None
        try:
            if not worker.conn.poll():
                raise EOFError  # only the sentinel is ready: it died
            message = worker.conn.recv_bytes()
        except (EOFError, OSError):
            self._workers.remove(worker)
            exit_code = worker.reap()
            if not worker.started:
                raise ConfigError(
                    "a worker process of the local executor exited while starting "
                    f"({_exit_text(exit_code)}; its error is printed above). A script that "
                    'calls themescope must do so under `if __name__ == "__main__":`, because '
                    "each worker imports the script again"
                ) from None
            return index, TaskFailure(f"worker process died ({_exit_text(exit_code)})")
        if not worker.started:  # its first message: it is ready
            worker.started = True
            return None
        worker.task = None
        return index, pickle.loads(message)

    def _stop(self, *, terminate: bool) -> None:
        workers, self._workers = self._workers, []
        for worker in workers:
            if terminate or worker.task is not None:
                worker.process.terminate()
            else:
                with contextlib.suppress(OSError):
                    worker.conn.send_bytes(_STOP)
        for worker in workers:
            worker.reap()


class _Worker:
    """One worker process of :class:`LocalExecutor`, and the index of the task it runs."""

    def __init__(self, context: SpawnContext) -> None:
        self.conn, child_end = context.Pipe()
        # daemon: multiprocessing terminates the workers if the caller exits without close()
        self.process: SpawnProcess = context.Process(
            target=_serve, args=(child_end,), name="themescope-worker", daemon=True
        )
        self.process.start()
        child_end.close()  # the parent's copy: now a dead worker reads as end of file here
        self.started = False
        self.task: int | None = None

    def reap(self) -> int | None:
        """Wait for the process to end (SIGKILL after :data:`STOP_WAIT_S`); its exit code."""
        self.process.join(STOP_WAIT_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()
        return self.process.exitcode


def _serve(conn: Connection) -> None:
    """A worker's life: run each task the parent sends until it says stop or is gone."""
    # Ctrl-C in a terminal reaches every process of the group; the parent alone
    # handles it and stops the workers, so no worker prints a KeyboardInterrupt.
    # A handler, not SIG_IGN: an ignored signal stays ignored in the programs a
    # task starts, and those should stop on Ctrl-C.
    signal.signal(signal.SIGINT, _ignore_signal)
    _exit_with_parent()
    if "OMP_NUM_THREADS" not in os.environ:  # as Ray does for a one-CPU task
        os.environ["OMP_NUM_THREADS"] = "1"
        torch = sys.modules.get("torch")  # already loaded by the caller's script
        if torch is not None:
            torch.set_num_threads(1)
    conn.send_bytes(_READY)
    while True:
        try:
            request = conn.recv_bytes()
        except EOFError:
            return
        if request == _STOP:
            return
        conn.send_bytes(_run(request))


def _ignore_signal(signum: int, frame: object) -> None:
    """A signal handler that does nothing."""


def _run(request: bytes) -> bytes:
    """Run one pickled ``(fn, item)``; the pickled result, or a pickled TaskFailure."""
    outcome: Any
    try:
        fn, item = pickle.loads(request)
        outcome = fn(item)
    except BaseException as exc:  # SystemExit too: it ends this task, not the worker
        outcome = _failure(exc, "".join(traceback.format_exception(exc)))
    try:
        return pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        failure = TaskFailure(f"the task's result cannot be pickled: {_failure(exc).message}")
        return pickle.dumps(failure)


def _exit_with_parent() -> None:
    """Exit this worker the moment its parent is gone (killed by SIGKILL, say): no orphans."""
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return

    def watch(sentinel: int) -> None:
        wait([sentinel])
        os._exit(1)

    threading.Thread(target=watch, args=(parent.sentinel,), daemon=True).start()


class RayExecutor(Executor):
    """The same function as Ray tasks, on a local Ray instance or an existing cluster.

    Without an address it starts a Ray instance on this machine with ``workers``
    CPUs (no dashboard, Ray's own log lines only for errors) and :meth:`close`
    shuts it down. With one it connects to that cluster, and :meth:`close` only
    disconnects: the cluster and its other jobs go on. If this process has
    already called ``ray.init``, that connection is used and left open.

    Every node must have themescope installed (the same version) and reach the
    paths in the items at the same place: run the study on shared storage
    (NFS, say). Each task asks for one CPU and is not retried if its worker
    dies; the study's rerun redoes failed videos. A cluster with token
    authentication needs ``RAY_AUTH_MODE=token`` and its token (``RAY_AUTH_TOKEN``
    or ``~/.ray/auth_token``) here, as Ray sends no token to an address given
    explicitly.

    Args:
        workers: CPUs of a local Ray instance; None: one per usable core. A
            cluster's size is its own, so it cannot be given with ``address``.
        address: ``auto`` (the cluster ``ray start`` began on this machine, or
            ``RAY_ADDRESS``), ``HOST:PORT`` (the head's GCS port, 6379 by default) or
            ``ray://HOST:PORT`` (Ray Client, 10001 by default). None: ``RAY_ADDRESS``
            if set, else a local instance.

    Example:
        >>> with RayExecutor(workers=2) as executor:  # doctest: +SKIP
        ...     sorted(executor.map(abs, [-1, -2, -3]))
        [(0, 1), (1, 2), (2, 3)]
    """

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None) -> None:
        self.workers = workers
        self.address = address
        self._ray: ModuleType | None = None
        self._owns_connection = False
        self._environ_before: dict[str, str | None] = {}

    @property
    def n_workers(self) -> int:
        """The CPUs of the Ray cluster (one task each); connects or starts Ray first."""
        ray = self._connect()
        return int(ray.cluster_resources().get("CPU", 0))

    def check(self) -> None:
        """Import Ray, check that the address answers, then start or connect to Ray.

        Raises:
            ConfigError: Ray is not installed; ``workers`` is below 1 or given with an
                address; nothing answers at the address, or no Ray cluster does; Ray
                cannot start.
        """
        self._connect()

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Outcomes[R]:
        """Run ``fn(item)`` as Ray tasks; see :meth:`Executor.map`."""
        ray = self._connect()
        task = ray.remote(_call).options(name=_task_name(fn), num_cpus=1, max_retries=0)
        fn_ref = ray.put(fn)
        pending = {task.remote(fn_ref, item): index for index, item in enumerate(items)}
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    yield pending.pop(ref), self._outcome(ref)
        finally:
            for ref in pending:  # Ctrl-C, an error, or the caller left the loop
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)

    def close(self) -> None:
        """Shut down the Ray instance this executor started, or disconnect from the cluster."""
        ray, self._ray = self._ray, None
        if ray is None or not self._owns_connection:
            return
        self._owns_connection = False
        ray.shutdown()
        # ray.init points breakpoint() at Ray's debugger and sets its own switches
        # in this process's environment; give the caller's environment back.
        for key, value in self._environ_before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def _connect(self) -> ModuleType:
        """Ray, initialised: connect or start it on first use (see :meth:`check`)."""
        if self._ray is not None:
            return self._ray
        _check_workers(self.workers)
        if self.workers is not None and self.address is not None:
            raise ConfigError("--workers sizes a local Ray instance; a cluster's size is its own")
        ray = _import_ray()
        address = self.address or os.environ.get("RAY_ADDRESS") or None
        if address is not None:
            _check_answers(address)
        if ray.is_initialized():
            self._ray = ray
            return ray
        before = dict(os.environ)
        try:
            if address is None:
                with _python_path(sys.path):
                    ray.init(
                        address="local",
                        num_cpus=self.workers or usable_cores(),
                        include_dashboard=False,
                        logging_level=logging.ERROR,
                    )
            else:
                ray.init(address=address, logging_level=logging.ERROR)
        except (ConnectionError, RuntimeError, ValueError, SystemExit) as exc:
            # Ray exits the process (SystemExit) when the GCS never answers
            with contextlib.suppress(Exception):
                ray.shutdown()
            if address is None:
                raise ConfigError(f"cannot start a local Ray instance: {_one_line(exc)}") from exc
            message = f"cannot connect to the Ray cluster at {address}: {_one_line(exc)}"
            if "auth" in f"{exc} {exc.__cause__}".lower():
                message += (
                    " (its token authentication needs RAY_AUTH_MODE=token and the token here)"
                )
            raise ConfigError(message) from exc
        self._environ_before = {
            key: before.get(key)
            for key in set(before) | set(os.environ)
            if before.get(key) != os.environ.get(key)
        }
        self._ray = ray
        self._owns_connection = True
        return ray

    def _outcome(self, ref: Any) -> Any:
        """The result of a finished task, or the TaskFailure for its error."""
        ray = self._ray
        assert ray is not None
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as err:
            detail = _ANSI.sub("", str(err))
            if isinstance(err.cause, BaseException):
                return _failure(err.cause, detail)
            return TaskFailure(_line(detail, last=True), detail)
        except ray.exceptions.WorkerCrashedError as err:
            return TaskFailure(f"worker process died ({_line(str(err))})")
        except ray.exceptions.RayError as err:  # out of memory, node lost, cancelled, ...
            return TaskFailure(f"{type(err).__name__}: {_line(str(err))}", str(err))


def _call(fn: Callable[[Any], Any], item: Any) -> Any:
    """The Ray task: ``fn(item)``; a plain function, so ``fn`` may be a partial too."""
    return fn(item)


def _task_name(fn: Callable[..., Any]) -> str:
    """The task name Ray shows in its logs: the function's, through partials."""
    target = getattr(fn, "func", fn)
    return str(getattr(target, "__qualname__", None) or type(target).__name__)


@contextlib.contextmanager
def _python_path(paths: list[str]) -> Iterator[None]:
    """Set ``PYTHONPATH`` to ``paths`` while a local Ray instance starts.

    Its workers then import what this process can, as the local executor's do: they
    inherit the environment the instance started with. Ray itself passes on only the
    script's folder and the current one, and a ``runtime_env`` would cost seconds of
    worker start on each study.
    """
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    try:
        yield
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before


def _import_ray() -> ModuleType:
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(
            f"--executor ray needs Ray: {RAY_INSTALL_HINT} ({_one_line(exc)})"
        ) from exc
    return ray


def _check_answers(address: str) -> None:
    """Raise ConfigError within seconds unless a Ray cluster may be at ``address``.

    ``ray.init`` itself waits minutes for an address where nothing listens, then
    exits the process; a plain TCP connection, then a gRPC handshake (Ray's
    protocol, both for the GCS and for Ray Client) tell much sooner.
    """
    if address == "auto":
        try:
            from ray._private.services import canonicalize_bootstrap_address
        except ImportError:  # a private function: without it, ray.init decides
            return
        try:
            found = canonicalize_bootstrap_address("auto")
        except ConnectionError as exc:
            raise ConfigError(f"--ray-address auto: {_one_line(exc)}") from exc
        if found is None:
            return
        host, port = _host_port(found)
    else:
        host, port = _host_port(address.removeprefix("ray://"))
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        reason = (
            f"no answer within {CONNECT_TIMEOUT_S:g} s" if isinstance(exc, TimeoutError) else exc
        )
        raise ConfigError(f"nothing answers at Ray address {address}: {reason}") from None
    if os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
        return  # the plain handshake below cannot speak to a TLS cluster
    import grpc

    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    channel = grpc.insecure_channel(target)
    try:
        grpc.channel_ready_future(channel).result(timeout=CONNECT_TIMEOUT_S)
    except grpc.FutureTimeoutError:
        raise ConfigError(
            f"something listens at {address} but it is not a Ray cluster "
            f"(no gRPC answer within {CONNECT_TIMEOUT_S:g} s)"
        ) from None
    finally:
        channel.close()


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(
            f"--ray-address must be auto, HOST:PORT or ray://HOST:PORT. Got {address!r} instead."
        )
    return host, int(port)


def _local(*, workers: int | None, address: str | None) -> LocalExecutor:
    if address is not None:
        raise ConfigError("--ray-address needs --executor ray")
    return LocalExecutor(workers=workers)


def _ray_problem() -> str | None:
    if importlib.util.find_spec("ray") is None:
        return f"needs the ray extra: {RAY_INSTALL_HINT}"
    return None


registry.register(
    "executor", "local", _local, help="Worker processes on this machine (the default)."
)
registry.register(
    "executor",
    "ray",
    RayExecutor,
    available=_ray_problem,
    help=f"Ray tasks, on this machine or a cluster ({RAY_INSTALL_HINT}).",
)


def _check_workers(workers: int | None) -> None:
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be at least 1. Got {workers} instead.")


def _exit_text(exit_code: int | None) -> str:
    """How a process ended, in words: ``signal 9, SIGKILL`` or ``exit status 3``."""
    if exit_code is None or exit_code >= 0:
        return f"exit status {exit_code}"
    number = -exit_code
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
    if number == getattr(signal, "SIGKILL", None):
        return f"signal {number}, {name}: killed, often by the kernel for lack of memory"
    return f"signal {number}, {name}"


def _failure(exc: BaseException, detail: str = "") -> TaskFailure:
    return TaskFailure(_one_line(exc), detail)


def _one_line(exc: BaseException) -> str:
    """``Type: message`` on one line, cut at :data:`MAX_MESSAGE_CHARS`."""
    text = " ".join(str(exc).split())
    line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return line if len(line) <= MAX_MESSAGE_CHARS else line[: MAX_MESSAGE_CHARS - 1] + "…"


def _line(text: str, *, last: bool = False) -> str:
    """The first (or last) line of ``text`` that is not blank, cut at :data:`MAX_MESSAGE_CHARS`."""
    lines = [line.strip() for line in text.splitlines() if line.strip()] or ["unknown error"]
    line = lines[-1] if last else lines[0]
    return line if len(line) <= MAX_MESSAGE_CHARS else line[: MAX_MESSAGE_CHARS - 1] + "…"


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
