variable "timezone" {}

# The zone is the caller's mistake: it is reported there, and the wall
# times below, in the group's (invalid) zone, are no errors of their own.
group "g" {
  thread_id = "t-1"
  timezone  = var.timezone
}

message "hello" {
  group   = group.g
  send_at = "2026-12-01 09:00"
  text    = "Hello"
}

message "standup" {
  group = group.g
  repeat {
    cron = "0 9 * * MON"
    from = "2026-12-01 00:00"
  }
  text = "Standup"
}
