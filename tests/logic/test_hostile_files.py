"""A bad case file never takes anything down: deep nesting, special files, oversized reads.

The dangerous files are checked through the real command line in a child process: a segfault (PyYAML's
C parser on a deeply nested file) or a read without bound (a symlink to /dev/zero) must fail the test,
not kill or hang pytest. The child runs with a memory limit and a timeout.
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from logic import load_library, yamlsource
from logic.yamlsource import MAX_BYTES, MAX_DEPTH, read_yaml
from tests.context import KB

REPO = Path(__file__).resolve().parents[2]
GOOD = REPO / "cases" / "myositis-after-failed-immunosuppression.yaml"
MEMORY_LIMIT = 1 << 30  # 1 GiB: an unbounded read dies quickly instead of swapping the machine


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def validate(folder: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m logic validate --no-lint folder`` in a child process with a memory limit and a timeout."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "logic", "validate", "--no-lint", str(folder)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"validate did not finish in {timeout} s (blocked on a file?): {exc}")


def nested(shape: str, depth: int) -> str:
    """A document nested ``depth`` levels deep, in one of four shapes (each under the 256 KiB limit)."""
    return {
        "flow-list": "[" * depth + "]" * depth,
        "flow-map": "{" * depth + "}" * depth,
        "block-list": "- " * depth + "x\n",
        "block-map": "? " * depth + "x\n",  # explicit keys: block mappings nested on one line
    }[shape]


SHAPES = ("flow-list", "flow-map", "block-list", "block-map")


@pytest.mark.parametrize("depth", [10_000, 25_000, 100_000])
def test_deep_nesting_is_refused_with_file_and_line_not_a_crash(tmp_path: Path, depth: int) -> None:
    shutil.copy(GOOD, tmp_path / "good.yaml")
    for shape in SHAPES:
        text = "id: deep\nstages:\n  - " + nested(shape, depth).replace("\n", "\n    ")
        assert len(text.encode()) <= MAX_BYTES, "the file must reach the depth check, not the size check"
        (tmp_path / f"{shape}.yaml").write_text(text)
    result = validate(tmp_path)
    assert result.returncode == 1, f"exit {result.returncode} (139/-11 = segfault)\n{result.stderr[-2000:]}"
    for shape in SHAPES:
        [line] = [x for x in result.stdout.splitlines() if f"{shape}.yaml:" in x]
        assert line.startswith(f"{tmp_path / shape}.yaml:3:"), line
        assert f"nested more than {MAX_DEPTH} levels deep" in line
    assert "1 case(s) loaded" in result.stderr


@pytest.mark.parametrize("shape", SHAPES)
def test_the_depth_limit_is_exact(shape: str) -> None:
    at_limit = nested(shape, MAX_DEPTH)
    yamlsource.refuse_deep_nesting(at_limit, at_limit.encode())
    too_deep = nested(shape, MAX_DEPTH + 1)
    with pytest.raises(yamlsource.YamlSourceError, match=f"nested more than {MAX_DEPTH} levels"):
        yamlsource.refuse_deep_nesting(too_deep, too_deep.encode())


@pytest.mark.parametrize("shape", ["flow-list", "block-list"])
def test_lists_at_the_depth_limit_still_load(tmp_path: Path, shape: str) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(nested(shape, MAX_DEPTH))
    data = read_yaml(path).data
    for _ in range(MAX_DEPTH - 1):
        assert isinstance(data, list)
        [data] = data


def test_ordinary_case_files_do_not_pay_for_the_precise_depth_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped cases pass the cheap byte scan; the event-by-event check runs only for suspicious files."""

    def fail(*args: object) -> None:
        raise AssertionError("the precise depth check ran on an ordinary case file")

    monkeypatch.setattr(yamlsource, "_check_depth_precisely", fail)
    library = load_library([REPO / "cases"], KB)
    assert library.cases and not library.errors


def test_special_files_are_refused_without_reading_or_blocking(tmp_path: Path) -> None:
    shutil.copy(GOOD, tmp_path / "good.yaml")
    (tmp_path / "linked.yaml").symlink_to(tmp_path / "good.yaml")  # a symlink to a regular file is fine
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    (tmp_path / "random.yaml").symlink_to("/dev/urandom")
    (tmp_path / "pagemap.yaml").symlink_to("/proc/self/pagemap")  # a "regular" file of size 0, gigabytes long
    os.mkfifo(tmp_path / "fifo.yaml")
    (tmp_path / "folder.yaml").mkdir()
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "missing")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(tmp_path / "socket.yaml"))
        result = validate(tmp_path, timeout=60)
    finally:
        server.close()
    out = result.stdout
    assert result.returncode == 1, result.stderr[-2000:]
    expected = {
        "zero.yaml": "not a regular file (a device)",
        "random.yaml": "not a regular file (a device)",
        "fifo.yaml": "not a regular file (a named pipe)",
        "folder.yaml": "not a regular file (a folder)",
        "socket.yaml": "not a regular file (a socket)",
        "pagemap.yaml": "",  # refused after at most the limit (it reads in 8-byte units: "Invalid argument")
        "dangling.yaml": "cannot read file",
    }
    for name, message in expected.items():
        [line] = [x for x in out.splitlines() if x.startswith(f"{tmp_path / name}:")]
        assert message in line, line
    [pagemap] = [x for x in out.splitlines() if "pagemap.yaml:" in x]
    assert f"at most {MAX_BYTES // 1024} KiB" in pagemap or "cannot read file" in pagemap
    # the real file, and the symlink to it, are both read (and refused as one case id used twice)
    assert "linked.yaml" in out and "good.yaml" in out


def test_a_read_never_takes_more_than_the_limit_plus_one_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even when the size the file system reports is wrong (e.g. /proc files report 0)."""
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: b\n" * (MAX_BYTES // 2))
    real_stat, real_read = os.stat, os.read
    taken = []

    def stat_lying_about_size(p: object, *args: object, **kwargs: object) -> os.stat_result:
        st = real_stat(p, *args, **kwargs)  # type: ignore[arg-type]
        return os.stat_result(
            (st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid, st.st_gid, 0, *st[7:])
        )

    def counting_read(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        taken.append(len(data))
        return data

    monkeypatch.setattr(os, "stat", stat_lying_about_size)
    monkeypatch.setattr(os, "read", counting_read)
    with pytest.raises(yamlsource.YamlSourceError, match="at most 256 KiB"):
        read_yaml(path)
    assert sum(taken) == MAX_BYTES + 1
