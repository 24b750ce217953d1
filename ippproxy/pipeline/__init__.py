"""ippproxy.pipeline: the job pipeline between the server and the separate packages.

Intake (intake.py: detect, analyse, count, rules, convert, price, reserve), settlement
(settle.py: settle or refund when a job ends) and HTTP Basic per queue (auth.py), built
from the Config (settings.py) and opened by the composition root (runtime.py). No HTTP
here: it imports filters, policies, accounting, jobs, ipp and the server's hook types.
"""

from ippproxy.pipeline.runtime import Pipeline, open_pipeline

__all__ = ["Pipeline", "open_pipeline"]
