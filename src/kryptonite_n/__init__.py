"""kryptonite-n: a reproducible study of the Kryptonite-N challenge datasets."""

import os

# OpenMP threads that spin-wait for work slow torch down about tenfold when jobs share cores;
# the policy must be set before torch is imported, hence here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
