group "g" {
  thread_id = "t"
  from      = "+14155552671"
  service   = "signal" # ERROR: Invalid service
}
