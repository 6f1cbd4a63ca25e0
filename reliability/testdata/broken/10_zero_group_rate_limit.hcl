provider "a1base" {
  account_id = "acc_rel"
  from       = "+14155552671"
}
group "eng" {
  thread_id  = "t-eng"
  rate_limit = "0/s" # ERROR: Invalid rate_limit
}
