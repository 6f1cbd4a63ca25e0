variable "hour" {
  type    = number
  default = 25

  validation {
    condition     = var.hour >= 0 && var.hour < 24 # ERROR: Invalid value for variable
    error_message = "The hour must be between 0 and 23."
  }

  validation {
    condition     = var.hour < 100
    error_message = "Never shown: this one holds."
  }
}

variable "bad_condition" {
  default = "x"

  validation {
    condition     = "maybe" # ERROR: Incorrect attribute value type
    error_message = "x"
  }

  validation {
    condition     = local.nope == 1 # ERROR: Invalid reference
    error_message = "x"
  }
}
