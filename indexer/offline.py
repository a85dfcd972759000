"""Keep the libraries quarry loads from reaching for the network or writing telemetry.

Light on purpose (``os`` only): the command lines call it first, before anything imports the
libraries that read these variables once, at import.
"""

from __future__ import annotations

import os

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",  # models come from local folders only
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # no "Loading weights" bar
    "TOKENIZERS_PARALLELISM": "false",
    # onnxruntime (1.2x on Linux) queues usage events for Microsoft in
    # ~/.cache/Microsoft/DeveloperTools/.onnxruntime (a device id and a database of events) from
    # its import on; read at import, so it must be set before the first `import onnxruntime`
    "ORT_DISABLE_TELEMETRY": "1",
}


def set_offline() -> None:
    """Set the variables above, unless the user set them otherwise."""
    for name, value in OFFLINE_ENV.items():
        os.environ.setdefault(name, value)
