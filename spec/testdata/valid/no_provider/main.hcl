# No provider block: the group sets its own number, and the environment
# supplies the account and the base URL.
group "solo" {
  thread_id = "t-solo"
  from      = "+14155550001"
}

message "hello" {
  group   = group.solo
  send_at = "2027-04-01T00:00:00+14:00"
  text    = ""
}
