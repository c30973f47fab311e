"""The user's to-do list: validation, models and the Postgres repository the agent tools use."""
