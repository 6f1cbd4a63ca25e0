variable "thread_id" {
  type = string
}

variable "timezone" {
  type = string
}

variable "greeting" {
  type = string
}

group "community" {
  thread_id = var.thread_id
  timezone  = var.timezone
}

message "standup" {
  group = group.community
  repeat {
    cron = "0 9 * * MON"
    from = "2026-12-01 00:00"
  }
  text = "${var.greeting}! ${trimspace(file("standup.txt"))}"
}

message "review" {
  group   = group.community
  send_at = "2026-12-07 17:00"
  text    = "${var.greeting}: review at 17:00."
}

output "thread_id" {
  value = group.community.thread_id
}
