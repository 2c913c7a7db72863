"""The desktop app: Qt widgets only (main window, live tab, heatmap panels, batch tab).

Everything here calls the engine (``fabricscope.engine``: ``inspector``, ``pooling``,
``heatmap_render``, ``batch``); nothing in the engine imports this package.
"""
