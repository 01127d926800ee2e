"""presseschau: English news and commentary in, a German publication out."""

__version__ = "0.1.0"
