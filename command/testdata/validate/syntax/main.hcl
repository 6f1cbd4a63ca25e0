provider "a1base" {
  account_id = "acc_123"
  from       = "+14155552671"
}

group "eng" { # ERROR: Unclosed configuration block
  thread_id = "group-thread-id-123"
