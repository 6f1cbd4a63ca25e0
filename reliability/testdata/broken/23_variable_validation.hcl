provider "a1base" {
  account_id = "acc_rel"
  from       = "+14155552671"
}
group "eng" {
  thread_id = "t-eng"
}
variable "day" {
  type    = string
  default = "someday"
  validation {
    condition     = can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", var.day)) # ERROR: Invalid value for variable
    error_message = "The day must look like 2026-12-01."
  }
}
