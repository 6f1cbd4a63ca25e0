# Two A1Base accounts: the default one (credentials and account id from
# A1BASE_*) and "eu", whose account id comes from A1BASE_EU_ACCOUNT_ID and
# which sends through the universal endpoint.
provider "a1base" {
  from       = "+14155552671"
  rate_limit = "10/s"
}

provider "a1base" {
  alias         = "eu"
  from          = "+442071838750"
  rate_limit    = "2/s"
  endpoint      = "universal"
  expires_after = "6h"
  timezone      = "Europe/Berlin"
}

group "us" {
  thread_id = "t-us"
}

group "berlin" {
  thread_id = "t-berlin"
  provider  = a1base.eu
}

group "london" {
  thread_id = "t-london"
  provider  = a1base.eu
  from      = "+442071838751"
  timezone  = "Europe/London"
}

group "explicit_default" {
  thread_id = "t-default"
  provider  = a1base
}

message "hello" {
  for_each = group
  group    = each.value
  send_at  = "2027-01-04 09:00"
  timezone = "UTC"
  text     = "Hello ${each.key}"
}
