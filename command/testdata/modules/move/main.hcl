provider "a1base" {
  account_id = "acc_test"
  from       = "+14155552671"
}

group "eng" {
  thread_id = "t-eng"
}

message "hello" {
  group   = group.eng
  send_at = "2026-12-01T07:00:00Z"
  text    = "Hello eng"
}

message "stays" {
  group   = group.eng
  send_at = "2026-12-01T07:30:00Z"
  text    = "Stays in the root"
}
