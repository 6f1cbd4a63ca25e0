variable "name" {}

group "g" {
  thread_id = "t-${var.name}"
}

message "hello" {
  group         = group.g
  send_at       = "2026-12-01T09:00:00Z"
  expires_after = "2x" # ERROR: Invalid expires_after
  text          = "Hello ${var.name}"
}

message "only_rome" {
  group   = group.g
  send_at = var.name == "rome" ? "later" : "2026-12-01T09:00:00Z" # ERROR: Invalid send_at
  text    = "x"
}
