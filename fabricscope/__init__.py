"""FabricScope: fabric quality inspection with a two-head ONNX model."""

__version__ = "0.1.0"
