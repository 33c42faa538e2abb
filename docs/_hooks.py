"""mkdocs hooks (mkdocs.yml ``hooks:``), for the site only.

- The client benchmark chart stays where ``make bench`` writes it,
  ``bench/results/client.png``: it is added to the site as ``client.png``, and
  ``docs/benchmarks.md`` links it by its path in the repository (so the page
  also reads right on a forge), rewritten here to the site's copy.
- Docstrings are written for Sphinx: cross-references with roles
  (``:class:`Wire```) and literal blocks after ``::``.  The API pages show
  the name alone, as code, and a single colon before a block.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "bench" / "results" / "client.png"
CHART_LINK = "../bench/results/client.png"
ROLE = re.compile(r":(?:class|func|meth|attr|data|mod|exc|obj):(?=<code>)")
LITERAL_MARK = re.compile(r"::</p>")


def on_files(files: Files, config: Any) -> Files:
    files.append(File.generated(config, "client.png", abs_src_path=str(CHART)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    if page.file.src_uri == "benchmarks.md":
        markdown = markdown.replace(f"]({CHART_LINK})", "](client.png)")
    return markdown


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    if page.file.src_uri.startswith("api/"):
        html = LITERAL_MARK.sub(":</p>", ROLE.sub("", html))
    return html
