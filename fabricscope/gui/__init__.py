"""The desktop app: Qt widgets only (main window, live tab, heatmap panels, batch tab).

Everything here calls the engine (``fabricscope.inspector``, ``pooling``,
``heatmap_render``, ``batch``); nothing in the engine imports this package.
"""
