"""The engine: everything FabricScope computes, without Qt, pyqtgraph or torch.

The CLI (``fabricscope.cli``) and the desktop app (``fabricscope.gui``) both call these
modules; nothing here imports either of them, nor training (``lint-imports`` checks it).

- the model: :mod:`.contract` (what an ONNX file declares), :mod:`.inspector` (image(s) in,
  Inspection(s) out: probabilities and maps), :mod:`.thresholds` (the one immutable value that
  turns probabilities into verdicts), :mod:`.providers`, :mod:`.onnx_external`
- the maths: :mod:`.imaging` (decode, fit), :mod:`.pooling`, :mod:`.heatmap_render`
- a batch run, in the order a file meets it: :mod:`.discovery` -> :mod:`.decode_pool` ->
  :mod:`.pipeline` -> :mod:`.row_schema` (the report row) -> :mod:`.report`; :mod:`.summary`;
  :mod:`.batch` drives a run, :mod:`.score_process` runs it in a child process, :mod:`.ray_engine`
  on Ray
- after a run: :mod:`.results` (rows the GUI holds), :mod:`.export`; :mod:`.speed` times the model
"""
