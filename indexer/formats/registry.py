"""Which reader handles which file extension, and the optional libraries some readers need."""

from __future__ import annotations

import importlib
from types import ModuleType

from indexer.errors import FileSkipped

# extension -> reader module in indexer.formats
READERS = {
    ".txt": "plain", ".text": "plain", ".info": "plain",  # a GNU Info manual is plain text between its nodes
    ".md": "markdown", ".markdown": "markdown", ".mdown": "markdown", ".mkd": "markdown", ".mkdn": "markdown",
    ".rst": "rst",
    ".org": "org",
    ".adoc": "asciidoc", ".asciidoc": "asciidoc",
    ".html": "html", ".htm": "html", ".xhtml": "html", ".xht": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
EXTENSIONS = tuple(READERS)
EXTRA = "quarry[formats]"  # the optional extra that installs the PDF and DOCX libraries


def require(source: str, module: str, package: str) -> ModuleType:
    """Import ``module`` for ``source``, or skip the file with the command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise FileSkipped(source, f"needs the {package} package: pip install '{EXTRA}'") from None


def reader(extension: str) -> ModuleType:
    """The reader module for a file extension (lower case, with its dot)."""
    return importlib.import_module(f"indexer.formats.{READERS[extension]}")
