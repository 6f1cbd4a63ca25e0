support_pin = "4711"
