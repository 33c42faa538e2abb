"""Build one commit's wire layer into a directory of its own, for measuring.

The benchmark figures in README.md and docs/ name the commit they measured.
This checks that commit's ``python/``, ``src/`` and build files out with
``git archive`` (the working tree, where others may be editing, is not
touched), compiles its C twins as a release build would (-O2), but keeps the
symbol table so that ``bench/callgrind.py --profile`` can name the twins'
functions (a release build strips it; -g adds no code at -O2), and prints the
directory to put on ``PYTHONPATH``:

    export PYTHONPATH=$(.venv/bin/python bench/snapshot.py HEAD)
    .venv/bin/python -m pytest --benchmark bench/test_bench_parser.py bench/test_bench_writer.py
    .venv/bin/python bench/callgrind.py
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATHS = ["python", "src", "setup.py", "pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"]


def snapshot(commit: str = "HEAD", where: Path | None = None) -> Path:
    sha = subprocess.run(
        ["git", "rev-parse", "--verify", f"{commit}^{{commit}}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    where = where or Path(os.environ.get("TMPDIR", "/tmp")) / f"wirespeed-{sha[:12]}"
    if not (where / "python").is_dir():
        listed = subprocess.run(
            ["git", "ls-tree", "--name-only", sha], cwd=ROOT, capture_output=True, text=True, check=True
        )
        present = [p for p in PATHS if p in listed.stdout.split()]
        archive = subprocess.run(["git", "archive", sha, *present], cwd=ROOT, capture_output=True, check=True).stdout
        where.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(where, filter="data")
        setup = where / "setup.py"
        text = setup.read_text()
        # keep the symbol table: no -s at link time, -g instead of -g0 (the same code at -O2)
        patched = text.replace('"-g0"', '"-g"').replace('(["-s"] if', '([] if')
        if patched == text:
            print("bench/snapshot.py: the release flags were not found in setup.py; built as it says", file=sys.stderr)
        setup.write_text(patched)
        env = {k: v for k, v in os.environ.items() if k not in ("WIRESPEED_NO_EXTENSIONS", "WIRESPEED_DEBUG")}
        subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=where, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        (where / "COMMIT").write_text(sha + "\n")
    return where / "python"


if __name__ == "__main__":
    print(snapshot(sys.argv[1] if len(sys.argv) > 1 else "HEAD", Path(sys.argv[2]) if len(sys.argv) > 2 else None))
