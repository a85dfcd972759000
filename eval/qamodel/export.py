"""Export the trained answer-sentence encoder to ONNX, weights quantised to int8 (see eval.qamodel)."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

MIN_COSINE = 0.98  # the int8 export's vectors against the torch model's, on the probe texts
PROBES = ("How do I keep the original file when compressing?", "Use the -k option to keep the input file.",
          "Who may vote in the project's elections?", "The weather in Lisbon is mild in spring.")


def export(model_dir: Path, out: Path) -> Path:
    """``model_dir`` (a sentence-transformers folder) as an int8 ONNX export in ``out`` (replaced)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from indexer.encoder import SentenceTransformerEncoder
    from indexer.onnx_encoder import OnnxEncoder
    from indexer.onnx_export import export_encoder

    encoder = SentenceTransformerEncoder(model_dir)
    with tempfile.TemporaryDirectory() as tmp:
        fp32, new = Path(tmp) / "fp32", Path(tmp) / "int8"
        settings = export_encoder(encoder, fp32)
        new.mkdir()
        quantize_dynamic(str(fp32 / settings["onnx"]), str(new / "model.onnx"), weight_type=QuantType.QInt8,
                         per_channel=True, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        shutil.copy(fp32 / settings["tokenizer"], new / settings["tokenizer"])
        settings["onnx"] = "model.onnx"
        (new / "encoder.json").write_text(json.dumps(settings, indent=1), encoding="utf-8")
        cosine = float(np.min(np.sum(encoder.encode(list(PROBES)) * OnnxEncoder(new).encode(list(PROBES)), axis=1)))
        if cosine < MIN_COSINE:
            raise SystemExit(f"the int8 export is too far from the model (cosine {cosine:.4f} < {MIN_COSINE})")
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(new, out)
    print(f"int8 export in {out} (min cosine to the torch model {cosine:.4f})", file=sys.stderr)
    return out
