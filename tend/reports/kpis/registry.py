"""Fills KPIS in the dashboard's order (each KPI module registers its own)."""
