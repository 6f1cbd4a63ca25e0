count = "many" # ERROR: Invalid value for variable
name  = "ok"
nmae  = "typo"
third = var.count # ERROR: Variables not allowed
