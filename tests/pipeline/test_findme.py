"""Find-Me at intake (pipeline/findme.py): which printer a job is reserved at (the dearest
of the group for this job and this user's groups) and how it is held; and what a printer
can do, read from its attributes (pipeline/findme_release.py). No I/O."""

from __future__ import annotations

from ippproxy.accounting import JobCounts
from ippproxy.config import from_dict
from ippproxy.ipp import Attribute, Tag
from ippproxy.pipeline import settings
from ippproxy.pipeline.findme import HOLD_REASON, dearest, findme_queue, held, priced_at
from ippproxy.pipeline.findme_release import prints_colour, prints_duplex
from ippproxy.pipeline.payer import PayerReason

CONFIG = from_dict({
    "accounting": {"enabled": True},
    "cost_model": [{"name": "colour", "mono": "0.10", "color": "0.50"},
                   {"name": "mono", "mono": "0.20", "color": "0.20"}],
    "queue": [{"name": "lab-colour", "cost_model": "colour"},
              {"name": "lab-mono", "cost_model": "mono"},
              {"name": "findme", "findme_printers": ["lab-colour", "lab-mono"]}]})
PRICING = settings.pricing(CONFIG)


def test_the_reservation_is_at_the_dearest_printer_for_this_job() -> None:
    printers = ("lab-colour", "lab-mono")
    # all colour: 0.50 on lab-colour beats 0.20; all mono: 0.20 on lab-mono beats 0.10
    assert dearest(PRICING, printers, (), JobCounts.simple(0, 3)) == "lab-colour"
    assert dearest(PRICING, printers, (), JobCounts.simple(3, 0)) == "lab-mono"
    assert dearest(PRICING, (), (), JobCounts.simple(3, 0)) is None
    assert priced_at(CONFIG, PRICING, "findme", (), JobCounts.simple(0, 1)) == "lab-colour"
    assert priced_at(CONFIG, PRICING, "lab-mono", (), JobCounts.simple(0, 1)) == "lab-mono"


def test_every_job_of_a_findme_queue_is_held_unless_its_payer_is_asked() -> None:
    assert findme_queue(CONFIG, "findme") is not None
    assert findme_queue(CONFIG, "lab-mono") is None and findme_queue(CONFIG, "x") is None
    reason, message = held(CONFIG, "findme", "job-hold-until-specified", "")
    assert reason == HOLD_REASON
    assert message == "Find-Me: release it at a printer of lab-colour, lab-mono"
    reason, message = held(CONFIG, "findme", "job-held-for-review", "too many pages")
    assert reason == HOLD_REASON and message.endswith("; too many pages")
    asked = PayerReason.INFO_NEEDED.value
    assert held(CONFIG, "findme", asked, "choose") == (asked, "choose")
    assert held(CONFIG, "lab-mono", "job-hold-until-specified", "") == (
        "job-hold-until-specified", "")


def _attrs(**values: object) -> list[Attribute]:
    out = []
    for name, v in values.items():
        name = name.replace("_", "-")
        if isinstance(v, bool):
            out.append(Attribute.single(name, Tag.BOOLEAN, v))
        else:
            assert isinstance(v, list)
            out.append(Attribute.multi(name, Tag.KEYWORD, v))
    return out


def test_what_a_printer_can_do() -> None:
    # RFC 8011 §5.4.26 color-supported; PWG 5100.13 print-color-mode-supported
    assert prints_colour(_attrs(color_supported=True))
    assert not prints_colour(_attrs(color_supported=False,
                                    print_color_mode_supported=["monochrome", "auto"]))
    assert not prints_colour(_attrs(print_color_mode_supported=["monochrome"]))
    assert prints_colour([])            # says nothing: taken as colour
    # RFC 8011 §5.2.8 sides-supported
    assert prints_duplex(_attrs(sides_supported=["one-sided", "two-sided-long-edge"]))
    assert not prints_duplex(_attrs(sides_supported=["one-sided"]))
    assert prints_duplex([])
