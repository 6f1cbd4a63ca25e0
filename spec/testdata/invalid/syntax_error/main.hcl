group "eng" {
  thread_id = # ERROR: Invalid expression
}
