# Four messages over five hours from 2026-12-01T08:00:00Z, the clock
# the run tests start at; two of them are due at the same time.
provider "a1base" {
  account_id = "acc_test"
  from       = "+14155552671"
}

group "eng" {
  thread_id = "t-eng"
}

group "sales" {
  thread_id = "t-sales"
  service   = "telegram"
}

message "standup" {
  group   = group.eng
  send_at = "2026-12-01T09:00:00Z"
  text    = "Standup at 09:15"
}

message "launch" {
  group   = group.eng
  send_at = "2026-12-01T10:30:00Z"
  text    = "Launch is live"
}

message "launch_sales" {
  group   = group.sales
  send_at = "2026-12-01T10:30:00Z"
  text    = "Launch is live: tell customers"
}

message "wrapup" {
  group   = group.sales
  send_at = "2026-12-01T13:00:00Z"
  text    = "Wrap-up at 14:00"
}
