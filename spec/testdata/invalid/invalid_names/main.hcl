group "9lives" { # ERROR: Invalid group name
  thread_id = "t"
  from      = "+14155552671"
}

message "hello world" { # ERROR: Invalid message name
  group   = group.lives
  send_at = "2027-01-01T00:00:00Z"
  text    = "x"
}

variable "a.b" { # ERROR: Invalid variable name
  default = 1
}

group "lives" {
  thread_id = "t"
  from      = "+14155552671"
}
