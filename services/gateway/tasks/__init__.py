"""The REST door to the task tools, for the frontend's task panel."""
