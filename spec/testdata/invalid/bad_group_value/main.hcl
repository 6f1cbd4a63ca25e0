group "eng" {
  thread_id = "t"
  from      = "+14155552671"
}

message "string" {
  group   = "eng" # ERROR: Invalid group
  send_at = "2027-01-01T00:00:00Z"
  text    = "x"
}

message "fake" {
  group   = { name = "sales" } # ERROR: Invalid group
  send_at = "2027-01-01T00:00:00Z"
  text    = "x"
}

message "null" {
  group   = null # ERROR: Invalid group
  send_at = "2027-01-01T00:00:00Z"
  text    = "x"
}

message "by_key" {
  for_each = toset(["eng", "sales"])
  group    = group[each.key] # ERROR: Invalid group
  send_at  = "2027-01-01T00:00:00Z"
  text     = "x"
}
