# One community's weekly programme: a standup every Monday at 09:00 local
# time and a review on Friday afternoon, in the community's language.
# Relative paths (the file function) resolve against this directory.

variable "name" {
  type        = string
  description = "The community's name, used in the review notice."
}

variable "thread_id" {
  type = string
}

variable "timezone" {
  type = string
}

variable "greeting" {
  type = string
}

variable "standup" {
  type        = string
  description = "\"Standup in 15 minutes\" in the community's language."
}

variable "organisers" {
  description = "The caller's group that hears about every review."
}

group "community" {
  thread_id = var.thread_id
  timezone  = var.timezone
}

message "standup" {
  group = group.community
  repeat {
    cron = "0 9 * * MON"
    from = "2027-03-01 00:00" # a wall time in the community's zone
  }
  expires_after = "30m"
  text          = "${var.greeting}! ${var.standup}. ${trimspace(file("agenda.txt"))}"
}

message "review" {
  group = group.community
  repeat {
    cron = "0 16 * * FRI"
    from = "2027-03-01 00:00"
  }
  text = "${var.greeting}! Review at 16:00: https://example.com/review/${var.name}"
}

message "review_notice" {
  group = var.organisers
  repeat {
    cron     = "0 16 * * FRI"
    timezone = var.timezone
    from     = "2027-03-01 00:00"
  }
  text = "Review starting in ${var.name} (${var.timezone})."
}

output "timezone" {
  value = var.timezone
}
