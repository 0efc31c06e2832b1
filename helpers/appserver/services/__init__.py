"""App server services: plain functions and small classes holding the logic; no FastAPI imports."""
