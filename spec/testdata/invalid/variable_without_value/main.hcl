variable "launch_day" { # ERROR: No value for required variable
  type = string
}
