variable "board" {}

variable "count_" {
  type = number
}

message "launch" {
  group   = var.board
  send_at = "2026-12-07T08:00:00Z"
  text    = "This week's programme reaches ${var.count_} communities."
}
