from_auto  = "auto-a"
auto_order = "auto-a"
