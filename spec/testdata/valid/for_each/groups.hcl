provider "a1base" {
  from = "+14155552671"
}

group "eng" {
  thread_id = "t-eng"
}

group "sales" {
  thread_id  = "t-sales"
  rate_limit = "100/h"
}

group "ops" {
  thread_id = "t-ops"
  service   = "telegram"
  from      = "+4930123456"
}
