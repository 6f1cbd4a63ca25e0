provider "a1base" {
  from          = "+14155552671"
  expires_after = "1 day" # ERROR: Invalid expires_after
}

group "g" {
  thread_id = "t"
}

message "negative" {
  group         = group.g
  send_at       = "2027-01-01T00:00:00Z"
  expires_after = "-1h" # ERROR: Invalid expires_after
  text          = "x"
}

message "zero" {
  group         = group.g
  send_at       = "2027-01-01T00:00:00Z"
  expires_after = "0s" # ERROR: Invalid expires_after
  text          = "x"
}

message "days_without_number" {
  group         = group.g
  send_at       = "2027-01-01T00:00:00Z"
  expires_after = "d" # ERROR: Invalid expires_after
  text          = "x"
}

message "days_then_bare_number" {
  group          = group.g
  send_at        = "2027-01-01T00:00:00Z"
  expires_after  = "1d2" # ERROR: Invalid expires_after
  unknown_settle = "14 d" # ERROR: Invalid unknown_settle
  text           = "x"
}
