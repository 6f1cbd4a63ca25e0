provider "a1base" {
  account_id    = "acc_123"
  from          = "+14155552671"
  base_url      = "https://api.a1base.com/v1"
  rate_limit    = "10/s"
  expires_after = "24h"
}

variable "launch_day" {
  type    = string
  default = "2026-12-01"
}

locals { teams = ["eng", "sales"] }

group "eng" {
  thread_id  = "group-thread-id-123"
  service    = "whatsapp"
  from       = "+14155550000"
  rate_limit = "1/5s"
}

group "sales" {
  thread_id = "group-thread-id-456"
  service   = "telegram"
}

message "launch" {
  group         = group.eng
  send_at       = "2026-12-01T09:00:00+01:00"
  expires_after = "6h"
  text          = "Launch day is ${var.launch_day}!"
}

message "report" {
  for_each = group
  group    = each.value
  send_at  = "2026-12-02T09:00:00Z"
  media {
    url     = "https://example.com/q3.pdf"
    type    = "document"
    caption = "Q3 report for ${each.key}"
  }
}

moved {
  from = message.old_name
  to   = message.launch
}

moved {
  from = message.report_old["eng"]
  to   = message.report["eng"]
}

backend "postgres" {
  conn_str = "postgres://user@host/db"
}
