provider "a1base" {
  account_id = "acc_rel"
  from       = "+14155552671"
}
group "eng" {
  thread_id = "t-eng"
}
locals {
  a = local.b # ERROR: Reference cycle
  b = local.a
}
