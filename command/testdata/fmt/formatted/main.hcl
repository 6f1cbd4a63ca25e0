provider "a1base" {
  account_id = "acc_123"
  from       = "+14155552671"
}

group "eng" {
  thread_id = "group-thread-id-123"
  service   = "whatsapp"
}

message "launch" {
  group   = group.eng
  send_at = "2026-12-01T09:00:00+01:00"
  text    = "Launch day!"
}
