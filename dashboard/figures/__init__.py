"""Pure Plotly figure builders, one module per page: data in, figure out, no Streamlit."""
