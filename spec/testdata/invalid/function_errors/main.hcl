group "g" {
  thread_id = "t"
  from      = "+14155552671"
}

message "unknown_function" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = uppercase("x") # ERROR: Call to unknown function
}

message "bad_arg" {
  group   = group.g
  send_at = timeadd("2027-01-01T00:00:00Z", "soon") # ERROR: Error in function call
  text    = "x"
}

message "interpolation" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = "list: ${["a"]}" # ERROR: Invalid template interpolation value
}
