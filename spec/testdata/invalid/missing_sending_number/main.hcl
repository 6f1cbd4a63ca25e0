group "g" { # ERROR: Missing sending number
  thread_id = "t"
}
