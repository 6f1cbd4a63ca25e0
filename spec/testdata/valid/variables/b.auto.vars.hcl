auto_order = "auto-b"
unknown    = "only a warning"
