provider "a1base" {
  account_id = "acc_rel"
  from       = "+14155552671"
}
group "eng" {
  thread_id = "t-eng"
}
message "m" {
  group   = group.eng
  send_at = "2026-12-01T09:00:00Z"
  text    = join("", [for i in range(1000) : "xxxxx"]) # ERROR: Text too long
}
