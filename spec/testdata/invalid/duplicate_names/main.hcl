variable "v" {
  default = 1
}

variable "v" { # ERROR: Duplicate variable
  default = 2
}

locals {
  a = 1
}

locals {
  a = 2 # ERROR: Duplicate local value
}

group "g" {
  thread_id = "t"
  from      = "+14155552671"
}

group "g" { # ERROR: Duplicate group
  thread_id = "t2"
}

message "m" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = "one"
}

message "m" { # ERROR: Duplicate message
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = "two"
}
