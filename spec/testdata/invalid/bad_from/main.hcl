provider "a1base" {
  from = "555-1234" # ERROR: Invalid from
}

group "g" {
  thread_id = "t"
  from      = "+0123456789" # ERROR: Invalid from
}

group "short" {
  thread_id = "t"
  from      = "+12345" # ERROR: Invalid from
}
