launch_day = "2026-12-01"
