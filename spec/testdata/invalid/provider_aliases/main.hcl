provider "a1base" {
  from = "+14155552671"
}

provider "a1base" {
  alias      = "eu"
  account_id = "acc_eu"
  from       = "+442071838750"
}

provider "a1base" { # ERROR: Duplicate provider configuration
  alias = "eu"
}

provider "a1base" {
  alias = "EU West" # ERROR: Invalid provider alias
}

provider "a1base" {
  alias = var.region # ERROR: Invalid provider alias
}

provider "a1base" {
  alias    = "apac"
  from     = "+6580000000"
  endpoint = "individual" # ERROR: Invalid endpoint
}

variable "region" {
  default = "us"
}

group "typo" {
  thread_id = "t1"
  provider  = a1base.ue # ERROR: Undefined provider alias
}

group "string" {
  thread_id = "t2"
  provider  = "a1base.eu" # ERROR: Invalid provider reference
}

group "other" {
  thread_id = "t3"
  provider  = aws.eu # ERROR: Invalid provider reference
}

group "deep" {
  thread_id = "t4"
  provider  = a1base.eu.west # ERROR: Invalid provider reference
}

group "fine" {
  thread_id = "t5"
  provider  = a1base.eu
}

message "m" {
  group   = group.fine
  send_at = "2027-01-01T00:00:00Z"
  text    = "hi"
}
