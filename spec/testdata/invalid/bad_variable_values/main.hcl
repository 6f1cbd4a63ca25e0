variable "count" {
  type = number
}

variable "flags" {
  type    = list(bool)
  default = ["yes", "no"] # ERROR: Invalid value for variable
}

variable "typo_type" {
  type = strin # ERROR: Invalid type specification
}

variable "ref_default" {
  default = local.x # ERROR: Variables not allowed
}
