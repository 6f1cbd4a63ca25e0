group "g" {
  thread_id = "t"
  from      = "+14155552671"
}

message "from_file" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = file("nope.txt") # ERROR: Invalid function argument
}

message "from_template" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = templatefile("nope.tmpl", {}) # ERROR: Invalid function argument
}
