variable "thread_id" {
  type = string
}

variable "greeting" {
  type = string
}

group "team" {
  thread_id = var.thread_id
}

message "hello" {
  group   = group.team
  send_at = "2027-01-04T09:00:00Z"
  text    = var.greeting
}
