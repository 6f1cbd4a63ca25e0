provider "a1base" {
  account_id = "acc_rel"
  from       = "+14155552671"
  rate_limit = "ten per second" # ERROR: Invalid rate_limit
}
group "eng" {
  thread_id = "t-eng"
}
