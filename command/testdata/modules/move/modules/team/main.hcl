variable "team" {}

message "hello" {
  group   = var.team
  send_at = "2026-12-01T07:00:00Z"
  text    = "Hello eng"
}
