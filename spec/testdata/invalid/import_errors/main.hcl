group "g" {
  thread_id = "t"
  from      = "+14155552671"
}

message "launch" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = "x"
}

message "report" {
  for_each = toset(["a", "b"])
  group    = group.g
  send_at  = "2027-01-01T00:00:00Z"
  text     = "report ${each.key}"
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
  to = message.lunch # ERROR: Import to a message that does not exist
}

import {
  to = message.report # ERROR: Import to a message that does not exist
}

import {
  to = message.report["c"] # ERROR: Import to a message that does not exist
}

import {
  to = message.launch["x"] # ERROR: Import to a message that does not exist
}

import {
  to = message.standup["monday"] # ERROR: Import to a message that does not exist
}

import {
  to = group.g # ERROR: Invalid address
}

import {
  to = message.launch
  id = 17 # ERROR: Invalid import id
}

import {
  to = message.report["a"]
}

import {
  to = message.report["a"] # ERROR: Duplicate import block
}
