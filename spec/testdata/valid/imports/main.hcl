group "g" {
  thread_id = "t"
  from      = "+14155552671"
}

message "launch" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = "x"
}

message "standup" {
  group = group.g
  repeat {
    cron = "0 9 * * MON"
    from = "2027-01-01T00:00:00Z"
  }
  text = "standup"
}

import {
  to = message.launch
  id = "msg_17"
}

import {
  to = message.standup["2027-01-04T09:00:00Z"]
}
