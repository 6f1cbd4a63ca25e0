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

message "a" {
  group   = group.eng
  send_at = "2026-12-01T07:00:00Z"
  text    = "First for eng"
}

message "b" {
  group   = group.eng
  send_at = "2026-12-01T07:30:00Z"
  text    = "Second for eng"
}

message "c" {
  group   = group.sales
  send_at = "2026-12-01T07:00:00Z"
  text    = "Only for sales"
}

message "later" {
  group   = group.eng
  send_at = "2026-12-02T09:00:00Z"
  text    = "Not yet"
}
