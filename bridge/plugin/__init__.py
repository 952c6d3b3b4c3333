"""The plugin kit: what adapter and transport authors build on (growing: see DESIGN.md).

Today it holds `units`, the conversions every platform needs; the contracts and their
contexts move here next.
"""
