# A weekly standup reminder in Europe/Berlin: every Monday at 09:00 local
# time, summer and winter alike. Each Monday is its own instance, keyed by
# its time: message.standup["2027-03-29T09:00:00+02:00"].
#
#   herald plan -at=2027-03-29T07:05:00Z     # Monday 09:05 in Berlin
#   herald apply -sandbox -auto-approve -at=2027-03-29T07:05:00Z

provider "a1base" {
  account_id = "acc_standup"
  from       = "+14155552671"
  timezone   = "Europe/Berlin" # groups and messages inherit it
}

group "eng" {
  thread_id = "group-thread-eng"
  service   = "whatsapp"
}

message "standup" {
  group = group.eng
  repeat {
    cron  = "0 9 * * MON"      # minute hour day-of-month month day-of-week
    from  = "2027-03-29 00:00" # a wall time in Europe/Berlin
    until = "2027-12-31 00:00"
  }
  # A reminder that arrives after the meeting is noise.
  expires_after = "15m"
  text          = "Standup in 15 minutes, ${formatdate("EEEE D MMMM", each.key)}. Agenda: https://example.com/standup"
}

# A one-off message may use a wall time too, in the zone in scope.
message "retro" {
  group   = group.eng
  send_at = "2027-03-31 16:00"
  text    = "Retro at 16:30 today."
}
