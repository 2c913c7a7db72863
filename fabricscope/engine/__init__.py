"""The engine: everything FabricScope computes, without Qt, pyqtgraph or torch.

The CLI (``fabricscope.cli``) and the desktop app (``fabricscope.gui``) both call these
modules; nothing here imports either of them (``lint-imports`` checks it).
"""
