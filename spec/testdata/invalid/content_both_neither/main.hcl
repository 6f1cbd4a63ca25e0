group "g" {
  thread_id = "t"
  from      = "+14155552671"
}

message "both" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = "x" # ERROR: Conflicting message content
  media {
    url  = "https://example.com/a.png"
    type = "image"
  }
}

message "neither" { # ERROR: Missing message content
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
}
