"""Who may sign in to the dashboard, what each person may see, and what they did."""
