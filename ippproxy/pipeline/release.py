"""The names a job held for its release carries (issue 17 §6), shared by the intake, which
holds it, and the release service (services/release.py), which releases it.

A job on a hold/release queue is stored ``pending-held`` with ``job-hold-until-specified``
(PWG 5100.7 §6.1.1: the queue's policy, not the client, asked for the hold); a PIN job with
``job-password-wait`` (PWG 5100.11 §5.3.2), and the salted hash of its PIN in its analysis
under ``PIN_KEY`` (never the PIN).
"""

from __future__ import annotations

RELEASE_HELD = "job-hold-until-specified"
PIN_HELD = "job-password-wait"
PIN_KEY = "job_password_hash"
