"""kryptonite-n: a reproducible study of the Kryptonite-N challenge datasets."""

__version__ = "0.1.0"
