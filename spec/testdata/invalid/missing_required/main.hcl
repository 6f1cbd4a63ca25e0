group "g" { # ERROR: Missing required argument
  from = "+14155552671"
}

group "ok" {
  thread_id = "t"
  from      = "+14155552671"
}

message "no_send_at" { # ERROR: Missing required argument
  group = group.ok
  text  = "x"
}

message "no_group" { # ERROR: Missing required argument
  send_at = "2027-01-01T00:00:00Z"
  text    = "x"
}

group "empty" {
  thread_id = "" # ERROR: Invalid thread_id
  from      = "+14155552671"
}
