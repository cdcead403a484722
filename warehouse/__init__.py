"""The rccdash warehouse: schema and migrations, calendar, KPI definitions, staffing, stars."""
