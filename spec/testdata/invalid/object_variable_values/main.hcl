# Object and collection variables take HCL values from -var and the
# environment; a value of the wrong shape is one error that names the
# type, not the parser's complaint about the text.
variable "team" {
  type = object({ name = string, size = number })
}

variable "limits" {
  type = map(number)
}

variable "owners" {
  type    = list(string)
  default = []
}

group "eng" {
  thread_id = "t-${var.team.name}"
  from      = "+14155552671"
}
