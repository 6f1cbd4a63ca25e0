group "eng" {
  thread_id = "t"
  from      = "+14155552671"
}

message "hello" { # ERROR: Missing message content
  group   = group.eng
  send_at = "2027-01-01T00:00:00Z"
  txet    = "typo" # ERROR: Unsupported argument
}

group "ops" { # ERROR: Missing required argument
  threadid = "t" # ERROR: Unsupported argument
  from     = "+14155552671"
} # (the missing thread_id is reported on the header line)
