group { # ERROR: Missing name for group
  thread_id = "t"
}

message "a" "b" { # ERROR: Extraneous label for message
  text = "x"
}

locals "x" { # ERROR: Extraneous label for locals
}
