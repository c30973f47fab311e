"""What both processes add to chatkit's ChatKit server."""
