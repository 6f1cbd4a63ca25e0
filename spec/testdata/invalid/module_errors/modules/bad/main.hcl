provider "a1base" { # ERROR: Provider configuration in a module
  from = "+14155552671"
}

variable "thread_id" {
  type = string
}

group "team" {
  thread_id = var.thread_id
  service   = "signal" # ERROR: Invalid service
}

message "hello" {
  group   = group.team
  send_at = "2027-01-04T09:00:00Z"
  text    = "hello ${var.thread}" # ERROR: Reference to undeclared input variable
}

message "late" {
  group   = group.team
  send_at = "next monday" # ERROR: Invalid send_at
  text    = "hello"
}

message "other" {
  group   = group.eng # ERROR: Reference to undeclared group
  send_at = "2027-01-04T09:00:00Z"
  text    = "groups of the caller are not in scope"
}

output "thread" {
  value = local.missing # ERROR: Reference to undeclared local value
}
