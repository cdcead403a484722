"""The Streamlit dashboard: thin pages over the warehouse's KPI layer."""
