"""What ``ippproxy cmd`` prints for people (``--json`` prints the data for scripts).

A list is an aligned table, one row per entry, amounts right-aligned in the account's
currency; one object is ``key: value`` lines, and a list inside it (an account's last
transactions) a table under its name. A ledger row names its job as operators know it,
``QUEUE/JOB-ID`` (the UUID when the store no longer has the job), a shared account by
its code and name.
"""

from __future__ import annotations

from typing import Any

from ippproxy.accounting.money import format_money

MONEY = ("amount", "balance", "balance_after", "credit_limit", "charged", "refunded",
         "available", "quota_amount", "quota_cap", "initial_balance")
# Columns a person does not need in a table (they stay in --json).
HIDDEN = ("account_type", "account_name", "queue", "job_id", "key", "replayed")


def _cell(key: str, value: Any, row: dict[str, Any], currency: str, exponent: int) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key in MONEY and isinstance(value, int):
        return format_money(value, row.get("currency") or currency, exponent)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "-"
    return str(value)


def _nested(value: Any) -> bool:
    """A list of objects (a table of its own), not a list of names (one cell)."""
    return isinstance(value, list) and any(isinstance(v, dict) for v in value)


def _person(row: dict[str, Any]) -> dict[str, Any]:
    """A row as a person reads it: the job as QUEUE/JOB-ID, a shared account's name."""
    out = dict(row)
    if out.get("queue") is not None and out.get("job_id") is not None:
        out["job"] = f"{out['queue']}/{out['job_id']}"
    if out.get("account_type") == "shared" and out.get("account_name"):
        out["account"] = f"{out['account']} ({out['account_name']})"
    return out


def table(rows: list[dict[str, Any]], currency: str, exponent: int, indent: str = "") -> str:
    if not rows:
        return f"{indent}(none)"
    people = [_person(r) for r in rows]
    columns = [k for k in dict.fromkeys(k for r in people for k in r)
               if k not in HIDDEN and not any(_nested(r.get(k)) for r in people)]
    cells = [[_cell(k, r.get(k), r, currency, exponent) for k in columns] for r in people]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(columns)]
    right = [k in MONEY or all(isinstance(r.get(k), int) and not isinstance(r.get(k), bool)
                               for r in people) for k in columns]

    def line(values: list[str]) -> str:
        return indent + "  ".join(v.rjust(w) if r else v.ljust(w)
                                  for v, w, r in zip(values, widths, right, strict=True)
                                  ).rstrip()
    return "\n".join([line(columns), line(["-" * w for w in widths]),
                      *(line(c) for c in cells)])


def block(obj: dict[str, Any], currency: str, exponent: int) -> str:
    shown = {k: v for k, v in _person(obj).items() if k not in HIDDEN and not _nested(v)
             and not (k == "transactions" and v == [])}
    width = max((len(k) for k in shown), default=0)
    lines = [f"{k + ':':<{width + 1}} {_cell(k, v, obj, currency, exponent)}"
             for k, v in shown.items()]
    for k, v in obj.items():
        if _nested(v) or (k == "transactions" and v == []):
            lines += ["", f"{k}:", table(v, obj.get("currency") or currency, exponent, "  ")]
    return "\n".join(lines)


def render(result: Any, currency: str, exponent: int) -> str:
    if isinstance(result, list):
        return table(result, currency, exponent)
    return block(result, currency, exponent)
