"""Voice platform adapters: one package per platform, loaded by entry point.

An adapter's whole API is the kit's: `from bridge.plugin import ...`.
"""
