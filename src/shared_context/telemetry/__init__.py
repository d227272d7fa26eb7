"""Observability of one server: Prometheus instruments, call records, structured logs and
optional OpenTelemetry traces. Imports nothing of ours, so every layer may use it."""
