provider "a1base" {
  account_id = "acc_rel"
  from       = "+14155552671"
}
group "eng" {
  thread_id = "t-eng"
}
provider "a1base" { # ERROR: Duplicate provider configuration
  account_id = "acc_other"
  from       = "+14155552671"
}
