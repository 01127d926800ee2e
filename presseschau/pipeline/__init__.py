"""Pipeline: the end-to-end job (`demo`, `run`), work leases and status."""
