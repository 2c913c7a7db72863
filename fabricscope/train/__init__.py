"""Training and ONNX export of the shipped FabricScope inspector (needs the ``train`` extra: torch).

Retrain the shipped model from scratch (about 50 minutes on 2 CPU cores)::

    python -m fabricscope.train --out models/

Only this package imports torch; the app itself needs only ONNX Runtime.
"""
