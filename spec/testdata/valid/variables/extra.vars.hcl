from_file = "file"
cli_order = "file"
