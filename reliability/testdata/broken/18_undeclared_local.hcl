provider "a1base" {
  account_id = "acc_rel"
  from       = "+14155552671"
}
group "eng" {
  thread_id = "t-eng"
}
message "m" {
  group   = group.eng
  send_at = local.when # ERROR: Reference to undeclared local value
  text    = "hello"
}
