variable "thread_id" {
  type = string
}

variable "timezone" {
  type = string
}

variable "greeting" {
  type = string
  validation {
    condition     = length(var.greeting) > 0
    error_message = "A greeting is needed."
  }
}

group "community" {
  thread_id = var.thread_id
  timezone  = var.timezone
}

message "standup" {
  group = group.community
  repeat {
    cron = "0 9 * * MON"
    from = "2027-01-01 00:00"
  }
  text = "${var.greeting}! ${trimspace(file("${path.module}/standup.txt"))}"
}

message "kickoff" {
  group   = group.community
  send_at = "2027-01-04 18:00"
  text    = "${var.greeting}: kickoff tonight."
}

output "thread_id" {
  value = group.community.thread_id
}

output "first_standup" {
  value = formatdate("YYYY-MM-DD", "2027-01-04T00:00:00Z")
}
