"""Connectors that ship with h5pyvol."""
