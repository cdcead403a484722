"""Complaints of one outlet-month: from long waits, from everyday friction, from a few tellers.

The complaint-prone tellers chosen in :mod:`rccdash.synthetic.organisation` draw repeated,
mostly substantiated attitude complaints; long waits draw wait-time complaints; the rest
arrive at a base rate per counter transaction across all categories.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

DESCRIPTIONS = {
    "attitude": ["柜员态度冷淡，询问两次都不理睬", "办理业务时柜员语气生硬，不耐烦"],
    "language": ["柜员未使用文明用语", "工作人员说方言，老人听不懂，也不愿解释"],
    "wait_time": ["排队等候超过一个小时，只开了两个窗口", "取号后等了很久，窗口却在午休"],
    "error": ["存款金额录入错误，已要求更正", "转账收款人信息被录错，资金延迟到账"],
    "environment": ["营业厅卫生差，座椅不够", "大厅太热，空调没有开"],
    "fees_product": ["短信通知费未告知即扣收", "理财产品风险未说明清楚"],
    "facility": ["存取款一体机吞卡", "叫号机故障，秩序混乱"],
    "other": ["建议延长营业时间", "对处理结果不满意，要求复查"],
}
# A few free-text quirks real systems export: markup, quotes, commas and line breaks.
QUIRKS = [
    "",
    "",
    "",
    "",
    ' 客户称："已经第二次了"',
    "，\n附：现场照片两张",
    " <b>加急</b>",
    ", 见监控录像",
]


@dataclass(frozen=True)
class MonthActivity:
    """What happened at an outlet in a month that complaints react to."""

    outlet_code: str
    month_first: dt.date
    counter_events: int
    long_waits: list[tuple[int, str]]  # (epoch seconds of the visit, teller id or "")
    tellers: list[str]
    prone_tellers: list[str]


def _pick(options: dict[str, float], rng: np.random.Generator) -> str:
    """Draw one key of ``options`` with the given relative weights."""
    keys = list(options)
    probs = np.array([float(options[k]) for k in keys])
    return keys[int(rng.choice(len(keys), p=probs / probs.sum()))]


def complaints_for_month(
    activity: MonthActivity, cfg: dict[str, Any], data_end: dt.datetime, rng: np.random.Generator
) -> list[dict[str, object]]:
    """Complaint export rows for one outlet-month, in received order."""
    c = cfg["complaints"]
    month_start = dt.datetime.combine(activity.month_first, dt.time())
    days_in_month = (
        dt.date(
            activity.month_first.year + activity.month_first.month // 12,
            activity.month_first.month % 12 + 1,
            1,
        )
        - activity.month_first
    ).days
    drafts: list[tuple[dt.datetime, str, str, bool]] = []  # received, category, staff, prone

    for visit, _teller in activity.long_waits:
        if rng.random() < float(c["wait_complaint_per_long_wait"]):
            received = dt.datetime.fromtimestamp(visit, dt.UTC).replace(tzinfo=None)
            received += dt.timedelta(hours=float(rng.uniform(0.2, 30)))
            drafts.append((received, "wait_time", "", False))
    base = rng.poisson(float(c["per_10k_counter"]) * activity.counter_events / 10_000)
    for _ in range(int(base)):
        category = _pick(c["categories"], rng)
        named = category in ("attitude", "language", "error") and activity.tellers
        staff = str(rng.choice(activity.tellers)) if named else ""
        drafts.append((_random_time(month_start, days_in_month, rng), category, staff, False))
    for teller in activity.prone_tellers:
        for _ in range(int(rng.poisson(float(c["prone_rate_per_month"])))):
            category = "attitude" if rng.random() < 0.7 else "language"
            drafts.append((_random_time(month_start, days_in_month, rng), category, teller, True))

    drafts.sort(key=lambda d: (d[0], d[1], d[2]))
    rows = []
    for seq, (received, category, staff, prone) in enumerate(drafts, start=1):
        rows.append(
            _complaint_row(activity, seq, received, category, staff, prone, cfg, data_end, rng)
        )
    return rows


def _random_time(month_start: dt.datetime, days: int, rng: np.random.Generator) -> dt.datetime:
    """A moment in office hours on a random day of the month."""
    return month_start + dt.timedelta(
        days=int(rng.integers(0, days)), seconds=int(rng.integers(8 * 3600, 18 * 3600))
    )


def _complaint_row(
    activity: MonthActivity,
    seq: int,
    received: dt.datetime,
    category: str,
    staff: str,
    prone: bool,
    cfg: dict[str, Any],
    data_end: dt.datetime,
    rng: np.random.Generator,
) -> dict[str, object]:
    """One complaint with its handling outcome and penalty."""
    c = cfg["complaints"]
    severity = _pick(c["severity"], rng)
    if prone and severity == "minor" and rng.random() < 0.35:
        severity = "major"
    is_complex = rng.random() < (0.7 if severity != "minor" else 0.1)
    mean_days = float(c["resolution_days_mean"]) * (1.8 if is_complex else 1.0)
    resolved = received + dt.timedelta(days=float(rng.gamma(2.0, mean_days / 2.0)))
    done = resolved < data_end
    substantiated: bool | None = None
    penalty, amount = "", ""
    if done:
        share = 0.85 if prone else float(c["substantiated_share"])
        substantiated = bool(rng.random() < share)
        if substantiated and staff:
            penalty = {"minor": "criticism", "major": "fine", "critical": "fine"}[severity]
            if severity == "critical" and rng.random() < 0.4:
                penalty = "suspension"
            if penalty in ("fine", "suspension"):
                amount = f"{float(c['fine_amount'][severity]):.2f}"
        else:
            penalty = "none"
    status = (
        ("closed" if rng.random() < 0.8 else "resolved")
        if done
        else ("investigating" if rng.random() < 0.6 else "open")
    )
    description = DESCRIPTIONS[category][int(rng.integers(0, len(DESCRIPTIONS[category])))]
    description += QUIRKS[int(rng.integers(0, len(QUIRKS)))]
    return {
        "complaint_id": f"TS{activity.outlet_code}{activity.month_first:%Y%m}{seq:03d}",
        "received_at": received.strftime("%Y-%m-%d %H:%M:%S"),
        "channel": _pick(c["channels"], rng),
        "outlet_code": activity.outlet_code,
        "staff_id": staff,
        "customer_ref": f"C{int(rng.integers(0, 10**8)):08d}",
        "category": category,
        "severity": severity,
        "is_complex": "true" if is_complex else "false",
        "description": description,
        "status": status,
        "resolved_at": resolved.strftime("%Y-%m-%d %H:%M:%S") if done else "",
        "substantiated": "" if substantiated is None else ("true" if substantiated else "false"),
        "penalty": penalty,
        "penalty_amount": amount,
    }
