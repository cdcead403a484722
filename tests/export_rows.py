"""A transactions-export row for tests that write their own files (ETL, data quality).

One completed counter deposit on ``day``; tests override the fields they are about.
"""

from __future__ import annotations

import datetime as dt


def transaction_row(
    txn: str, staff: str, outlet: str, day: dt.date | str, **over: str
) -> dict[str, str]:
    """The export's columns, in the export's order, for one ordinary served customer."""
    base = {
        "txn_id": txn,
        "outlet_code": outlet,
        "channel": "counter",
        "business_type": "deposit",
        "staff_id": staff,
        "window_no": "1",
        "amount": "500.00",
        "customer_segment": "regular",
        "ticket_at": f"{day} 10:00:00",
        "called_at": f"{day} 10:05:00",
        "started_at": f"{day} 10:05:20",
        "completed_at": f"{day} 10:08:00",
        "status": "completed",
        "satisfaction": "5",
        "reversal_of": "",
    }
    return base | over
