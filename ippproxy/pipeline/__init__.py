"""ippproxy.pipeline: what happens to a job between the IPP handlers and the job store.

Intake (intake.py: plan -> spool -> analyse -> decide -> reserve -> create, for
Print-Job, Create-Job and Send-Document), settlement (settle.py: settle or refund when a
job ends), built from the Config (settings.py) and opened by the composition root
(runtime.py). No HTTP and no server objects here: the server hands it a plain
:class:`Submission` and answers its :class:`Refused`. It imports ipp, jobs, filters,
policies, accounting and config; the server imports it, never the other way round.
"""

from ippproxy.pipeline.intake import Intake
from ippproxy.pipeline.refusal import Refused
from ippproxy.pipeline.runtime import Pipeline, open_pipeline
from ippproxy.pipeline.submission import Accepted, Submission, SubmissionChecks, Validated

__all__ = ["Accepted", "Intake", "Pipeline", "Refused", "Submission", "SubmissionChecks",
           "Validated", "open_pipeline"]
