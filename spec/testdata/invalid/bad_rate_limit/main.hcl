provider "a1base" {
  from       = "+14155552671"
  rate_limit = "10/d" # ERROR: Invalid rate_limit
}

group "g" {
  thread_id  = "t"
  rate_limit = "fast" # ERROR: Invalid rate_limit
}

group "zero" {
  thread_id  = "t"
  rate_limit = "0/s" # ERROR: Invalid rate_limit
}
