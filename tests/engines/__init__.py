"""Engines the tests start themselves on free 127.0.0.1 ports and stop at the end."""
