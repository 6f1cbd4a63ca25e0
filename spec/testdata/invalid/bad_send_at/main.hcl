group "g" {
  thread_id = "t"
  from      = "+14155552671"
}

message "no_offset" {
  group   = group.g
  send_at = "2027-01-01T09:00:00" # ERROR: Invalid send_at
  text    = "x"
}

message "words" {
  group   = group.g
  send_at = "tomorrow morning" # ERROR: Invalid send_at
  text    = "x"
}

message "wrong_type" {
  group   = group.g
  send_at = ["2027-01-01T09:00:00Z"] # ERROR: Incorrect attribute value type
  text    = "x"
}

message "null" {
  group   = group.g
  send_at = null # ERROR: Invalid send_at
  text    = "x"
}

message "wall_time_no_zone" {
  group   = group.g
  send_at = "2027-01-01 09:00" # ERROR: Invalid send_at
  text    = "x"
}
