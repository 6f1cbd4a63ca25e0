group "g" {
  thread_id = "t"
  from      = "+14155552671"
}

message "list" {
  for_each = ["a", "b"] # ERROR: Invalid for_each argument
  group    = group.g
  send_at  = "2027-01-01T00:00:00Z"
  text     = each.key
}

message "list_typed" {
  for_each = tolist(["a", "b"]) # ERROR: Invalid for_each argument
  group    = group.g
  send_at  = "2027-01-01T00:00:00Z"
  text     = each.key
}

message "string" {
  for_each = "a,b" # ERROR: Invalid for_each argument
  group    = group.g
  send_at  = "2027-01-01T00:00:00Z"
  text     = each.key
}

message "null" {
  for_each = null # ERROR: Invalid for_each argument
  group    = group.g
  send_at  = "2027-01-01T00:00:00Z"
  text     = each.key
}

message "numbers" {
  for_each = toset([1, 2]) # ERROR: Invalid for_each argument
  group    = group.g
  send_at  = "2027-01-01T00:00:00Z"
  text     = each.key
}

message "secret" {
  for_each = sensitive({ a = 1 }) # ERROR: Invalid for_each argument
  group    = group.g
  send_at  = "2027-01-01T00:00:00Z"
  text     = each.key
}
