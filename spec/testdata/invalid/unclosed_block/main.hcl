provider "a1base" {
  from = "+14155552671"
}

group "eng" { # ERROR: Unclosed configuration block
  thread_id = "t"
