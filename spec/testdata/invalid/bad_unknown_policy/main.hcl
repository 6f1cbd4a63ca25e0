provider "a1base" {
  from           = "+14155552671"
  on_unknown     = "retry" # ERROR: Invalid on_unknown
  unknown_settle = "soon"  # ERROR: Invalid unknown_settle
}

group "g" {
  thread_id      = "t"
  unknown_settle = "-5m" # ERROR: Invalid unknown_settle
}

group "h" {
  thread_id  = "u"
  on_unknown = "Resend" # ERROR: Invalid on_unknown
}

group "quick" {
  thread_id      = "v"
  unknown_settle = "2m59s" # ERROR: Invalid unknown_settle
}

message "m" {
  group      = group.h
  send_at    = "2027-01-01T00:00:00Z"
  on_unknown = "ask" # ERROR: Invalid on_unknown
  text       = "x"
}
