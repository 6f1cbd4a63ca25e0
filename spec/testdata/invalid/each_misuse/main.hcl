group "g" {
  thread_id = "t"
  from      = "+14155552671"
}

message "no_for_each" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = each.key # ERROR: Reference to "each" in context without for_each
}

message "in_for_each" {
  for_each = toset([each.key]) # ERROR: Reference to "each" in context without for_each
  group    = group.g
  send_at  = "2027-01-01T00:00:00Z"
  text     = "x"
}

message "bad_attr" {
  for_each = toset(["a"])
  group    = group.g
  send_at  = "2027-01-01T00:00:00Z"
  text     = each.name # ERROR: Invalid "each" attribute
}

locals {
  x = each.key # ERROR: Reference to "each" in context without for_each
}
