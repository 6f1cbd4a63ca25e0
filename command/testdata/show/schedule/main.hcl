# A week of announcements with what a reviewer should catch: a send at
# night, two sends a few seconds apart, and a burst over a group's limit.
provider "a1base" {
  account_id = "acc_schedule"
  from       = "+14155552671"
}

group "eng" {
  thread_id  = "t-eng"
  rate_limit = "2/1h"
}

group "community" {
  thread_id = "t-community"
  service   = "telegram"
}

locals {
  days = ["2026-12-02", "2026-12-03", "2026-12-04"]
}

message "standup" {
  for_each = toset(local.days)
  group    = group.eng
  send_at  = "${each.key}T09:00:00Z"
  text     = "Standup at 9:15"
}

# Lands at 02:30 UTC.
message "release" {
  group   = group.community
  send_at = "2026-12-03T02:30:00Z"
  text    = "v2 is out"
}

# Twenty seconds apart.
message "welcome" {
  group   = group.community
  send_at = "2026-12-02T12:00:00Z"
  text    = "Welcome!"
}

message "rules" {
  group   = group.community
  send_at = "2026-12-02T12:00:20Z"
  text    = "Please read the rules."
}

# Three within an hour to a group that allows two.
message "digest" {
  for_each = { a = "10:00", b = "10:20", c = "10:40" }
  group    = group.eng
  send_at  = "2026-12-04T${each.value}:00Z"
  text     = "Digest ${each.key}"
}
