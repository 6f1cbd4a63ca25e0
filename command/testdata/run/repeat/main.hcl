# An hourly reminder at half past, from 08:30 to 11:30 UTC on the day the
# run tests start.
provider "a1base" {
  account_id = "acc_test"
  from       = "+14155552671"
}

group "eng" {
  thread_id = "t-eng"
}

message "hourly" {
  group = group.eng
  repeat {
    cron  = "30 * * * *"
    from  = "2026-12-01T08:00:00Z"
    until = "2026-12-01T12:00:00Z"
  }
  text = "Check the queue (${formatdate("hh:mm", each.key)})"
}
