variable "count" {
  type = number
}

variable "secret" { # ERROR: Invalid value for variable
  type      = map(string)
  sensitive = true
}
