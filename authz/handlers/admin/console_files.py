"""The console's built files: which ones exist and what they are.

The folder's own listing is the allow-list. A request names a file by one
path segment, and only a name that the listing holds is ever opened, so no
spelling of ``..``, no encoded slash and no symlink can reach a file outside
it. The listing is read per request (a handful of entries): a rebuild in
``authz dev`` shows without a restart, and a Lambda's folder never changes.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ASSETS", "Asset", "AssetFolder"]

ASSETS = Path(__file__).with_name("console_assets")
"""The built console (``npm run build:console``), committed and packaged with the admin Lambda."""

# Only these kinds are served; anything else in the folder (a source map, a
# stray file) stays private even when it is packaged by mistake. Text only: a
# proxy answer carries bytes base64-encoded, and API Gateway decodes them only
# for the API's binaryMediaTypes, which this API does not declare.
_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}

# The build's names are fixed (app.js, app.css), so a browser keeps a file only until
# the next request, which its ETag answers with a 304 when nothing changed.
REVALIDATE = "no-cache"


@dataclass(frozen=True, slots=True)
class Asset:
    """One servable file, read as text."""

    name: str
    content_type: str
    text: str

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:32] + '"'


class AssetFolder:
    """The built console in ``folder``; a missing folder is an empty one."""

    def __init__(self, folder: Path = ASSETS) -> None:
        self.folder = folder

    def names(self) -> frozenset[str]:
        """The servable files: regular files (no symlinks) of a served kind, not hidden."""
        try:
            with os.scandir(self.folder) as entries:
                return frozenset(
                    entry.name
                    for entry in entries
                    if entry.is_file(follow_symlinks=False)
                    and not entry.name.startswith(".")
                    and Path(entry.name).suffix in _TYPES
                )
        except (FileNotFoundError, NotADirectoryError):
            return frozenset()

    def get(self, name: str) -> Asset | None:
        """The file called exactly ``name`` in the listing, or None; None too when it is
        not UTF-8, since it could only travel as bytes (see ``_TYPES``)."""
        if name not in self.names():
            return None
        try:
            text = (self.folder / name).read_bytes().decode("utf-8")
        # Removed by a rebuild between listing and reading, or not text.
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        return Asset(name, _TYPES[Path(name).suffix], text)
