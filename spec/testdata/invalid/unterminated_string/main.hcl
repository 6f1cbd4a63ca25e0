# A first herald configuration: two groups, a text message, a media message
# and a fan-out to every group. `herald plan` shows what is due; `herald apply
# -sandbox` sends it to a local fake A1Base server.

provider "a1base" {
  account_id    = "acc_quickstart"
  from          = "+14155552671"
  rate_limit    = "10/s"
  expires_after = "24h"
}

variable "launch_day" {
  type        = string
  default     = "2026-12-01"
  description = "The day the product launches."
}

locals {
  signature = "— the herald team"
}

group "eng" {
  thread_id  = "group-thread-eng"
  service    = "whatsapp"
  rate_limit = "1/5s # ERROR: Unterminated template string
}

group "community" {
  thread_id = "group-thread-community"
  service   = "telegram"
  from      = "+14155550000"
}

message "launch" {
  group         = group.eng
  send_at       = "2026-12-01T09:00:00+01:00"
  expires_after = "6h"
  text          = "Launch day is ${var.launch_day}! ${local.signature}"
}

message "poster" {
  group   = group.community
  send_at = "2026-12-01T10:00:00+01:00"
  media {
    url     = "https://example.com/launch-poster.png"
    type    = "image"
    caption = "We are live!"
  }
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
