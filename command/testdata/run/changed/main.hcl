# schedule/main.hcl after a change: "launch" is gone, "reminder" is new
# and due at 09:30; the rest is unchanged.
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

message "reminder" {
  group   = group.eng
  send_at = "2026-12-01T09:30:00Z"
  text    = "Reminder: launch checklist"
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
