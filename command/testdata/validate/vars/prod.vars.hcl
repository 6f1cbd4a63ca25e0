thread = "t-file"
