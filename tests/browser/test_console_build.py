"""The committed console is exactly a fresh build, fits its size budget, and uses no API that
would turn data into code or keep a token beyond the tab."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "authz" / "handlers" / "admin" / "console_assets"
SOURCES = ROOT / "console"
BUDGET = 200 * 1024  # bytes, gzipped, everything a first visit downloads

# Our own code may use none of these: every string reaches the page through
# textContent/createTextNode, tokens live in sessionStorage, nothing is evaluated.
FORBIDDEN_IN_SOURCES = {
    "eval(": re.compile(r"\beval\s*\("),
    "new Function": re.compile(r"\bnew\s+Function\b"),
    "localStorage": re.compile(r"\blocalStorage\b"),
    "innerHTML": re.compile(r"\binnerHTML\b"),
    "outerHTML": re.compile(r"\bouterHTML\b"),
    "insertAdjacentHTML": re.compile(r"\binsertAdjacentHTML\b"),
    "document.write": re.compile(r"\bdocument\s*\.\s*write(ln)?\b"),
}
# The bundle also holds CodeMirror, lezer and jsdiff, whose DOM code is theirs to
# keep (none uses innerHTML today, but a patch release may, and render text safely).
# What the CSP forbids (eval, new Function) and a token store outliving the tab
# (localStorage) must be absent from every byte that ships.
FORBIDDEN_IN_BUNDLE = ("eval(", "new Function", "localStorage")

# esbuild's own transform drops comments and keeps code and strings exactly, so a
# comment that says "never localStorage" is not a use of it.
STRIP_COMMENTS = """
import { transformSync } from "esbuild";
import { readFileSync } from "node:fs";
const out = {};
for (const file of process.argv.slice(1)) {
  const source = readFileSync(file, "utf8");
  out[file] = transformSync(source, { loader: "ts", legalComments: "none" }).code;
}
process.stdout.write(JSON.stringify(out));
"""


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "esbuild").is_dir():
        pytest.fail("node and the npm packages are needed: run `make setup`", pytrace=False)
    return node


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_committed_assets_are_a_fresh_build(tmp_path: Path) -> None:
    """`npm run build:console` reproduces the committed console_assets byte for byte."""
    _node()
    npm = shutil.which("npm")
    assert npm is not None, "npm is missing: install Node.js 18+"
    fresh = tmp_path / "console_assets"
    subprocess.run(
        [npm, "run", "--silent", "build:console", "--", str(fresh)],
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    committed, built = _files(ASSETS), _files(fresh)
    assert sorted(committed) == sorted(built), "files differ: run `npm run build:console`"
    stale = [name for name in built if built[name] != committed[name]]
    assert stale == [], f"{stale} differ from a fresh build: run `npm run build:console`"


def test_everything_a_first_visit_loads_fits_in_200_kb_gzipped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """index.html and every built asset together stay within the issue's transfer budget."""
    files = _files(ASSETS)
    assert {"index.html", "app.js", "app.css"} <= set(files)
    sizes = {name: len(gzip.compress(data, compresslevel=9)) for name, data in files.items()}
    total = sum(sizes.values())
    with capsys.disabled():
        print(f"\nconsole transfer: {total / 1024:.1f} KB gzipped of {BUDGET // 1024} KB {sizes}")
    assert total <= BUDGET


def _source_files() -> list[Path]:
    return sorted(
        p for p in SOURCES.rglob("*") if p.suffix in {".ts", ".mjs", ".js"} and p.is_file()
    )


def test_our_sources_use_no_html_sinks_eval_or_local_storage() -> None:
    """No console source file (comments aside) names a forbidden API."""
    files = _source_files()
    assert files, f"no sources under {SOURCES}"
    result = subprocess.run(
        [_node(), "--input-type=module", "-e", STRIP_COMMENTS, *map(str, files)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    code: dict[str, str] = json.loads(result.stdout)
    found = [
        f"{Path(file).relative_to(ROOT)}: {name}"
        for file, text in code.items()
        for name, pattern in FORBIDDEN_IN_SOURCES.items()
        if pattern.search(text)
    ]
    assert found == []


def test_the_bundle_has_no_eval_or_local_storage() -> None:
    """The shipped JavaScript, libraries included, has nothing the CSP or the token rules forbid."""
    for script in ASSETS.glob("*.js"):
        text = script.read_text(encoding="utf-8")
        found = [name for name in FORBIDDEN_IN_BUNDLE if FORBIDDEN_IN_SOURCES[name].search(text)]
        assert found == [], f"{script.name}: {found}"


class _Inline(HTMLParser):
    """Collects whatever would run or style inline: the CSP would block it, or worse, not."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower(): value or "" for name, value in attrs}
        self.found += [f"<{tag} {name}=...>" for name in names if name.startswith("on")]
        if "style" in names:
            self.found.append(f"<{tag} style=...>")
        if tag == "style":
            self.found.append("<style> element")
        if tag == "script":
            if not names.get("src"):
                self.found.append("<script> without src")
            self._in_script = True
        if any(v.strip().lower().startswith("javascript:") for v in names.values()):
            self.found.append(f"<{tag}> with a javascript: URL")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append("inline script text")


@pytest.mark.parametrize("html", [SOURCES / "index.html", ASSETS / "index.html"], ids=str)
def test_index_has_no_inline_script_style_or_handlers(html: Path) -> None:
    """index.html loads its script and style from files and carries no on* attribute."""
    parser = _Inline()
    parser.feed(html.read_text(encoding="utf-8"))
    parser.close()
    assert parser.found == []
    assert re.search(r'<script[^>]*\ssrc="console/app\.js"', html.read_text(encoding="utf-8"))
