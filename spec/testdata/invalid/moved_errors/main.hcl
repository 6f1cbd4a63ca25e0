group "g" {
  thread_id = "t"
  from      = "+14155552671"
}

message "launch" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = "x"
}

moved {
  from = message.old
  to   = message.lunch # ERROR: Moved to a message that does not exist
}

moved {
  from = message.launch # ERROR: Moved object still exists
  to   = message.launch_v2 # ERROR: Moved to a message that does not exist
}

moved {
  from = group.old # ERROR: Invalid address
  to   = message.launch
}

moved {
  from = message.old2
  to   = "message.launch" # ERROR: Invalid address
}

moved {
  from = message.gone
  to   = message.launch
}

moved {
  from = message.gone # ERROR: Ambiguous move statements
  to   = message.launch
}

moved {
  from = message.old3
  to   = message.launch["k"] # ERROR: Moved to a message that does not exist
}

moved { # ERROR: Redundant moved block
  from = message.same
  to   = message.same
}

moved { # ERROR: Missing required argument
  from = message.old4
}
