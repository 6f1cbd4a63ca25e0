variable "launch_day" {
  default = "2027-01-01"
}

locals {
  greeting = "hi"
}

group "eng" {
  thread_id = "t"
  from      = "+14155552671"
}

message "a" {
  group   = group.eng
  send_at = "${var.lanch_day}T00:00:00Z" # ERROR: Reference to undeclared input variable
  text    = "x"
}

message "b" {
  group   = group.eng
  send_at = "2027-01-01T00:00:00Z"
  text    = local.greting # ERROR: Reference to undeclared local value
}

message "c" {
  group   = group.egn # ERROR: Reference to undeclared group
  send_at = "2027-01-01T00:00:00Z"
  text    = "x"
}

message "d" {
  group   = group.eng
  send_at = "2027-01-01T00:00:00Z"
  text    = vars.launch_day # ERROR: Unknown variable
}
