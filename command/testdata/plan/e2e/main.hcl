provider "a1base" {
  account_id    = "acc_e2e"
  from          = "+14155552671"
  expires_after = "24h"
}

variable "door_code" {
  type      = string
  default   = "4711"
  sensitive = true
}

group "eng" {
  thread_id = "t-eng"
}

group "community" {
  thread_id = "t-community"
  service   = "telegram"
  from      = "+14155550000"
}

# Due at the clock (08:00Z) and never sent: send.
message "launch" {
  group         = group.eng
  send_at       = "2026-12-01T09:00:00+01:00"
  expires_after = "6h"
  text          = "Launch day!\nDoors open at 10."
}

# Due, media: send.
message "poster" {
  group   = group.community
  send_at = "2026-12-01T07:30:00Z"
  media {
    url     = "https://example.com/launch-poster.png"
    type    = "image"
    caption = "We are live!"
  }
}

# Tomorrow, one per group: wait.
message "report" {
  for_each = group
  group    = each.value
  send_at  = "2026-12-02T09:00:00Z"
  text     = "Report for ${each.key}"
}

# Built from a sensitive variable: shown as (sensitive).
message "code" {
  group   = group.eng
  send_at = "2026-12-01T06:00:00Z"
  text    = "Door code: ${var.door_code}"
}

# Past its lateness limit and never sent: expire.
message "late" {
  group   = group.eng
  send_at = "2026-11-28T08:00:00Z"
  text    = "Too late"
}

# Failed before, still within expires_after: retry.
message "flaky" {
  group   = group.eng
  send_at = "2026-12-01T07:00:00Z"
  text    = "Try again"
}

# Sent, then its text changed: drift.
message "agenda" {
  group   = group.community
  send_at = "2026-11-30T09:00:00Z"
  text    = "Agenda v2"
}

# An earlier apply did not learn the outcome: unknown.
message "maybe" {
  group   = group.eng
  send_at = "2026-12-01T05:00:00Z"
  text    = "Did it go?"
}

# Sent under its old name; the moved block carries the record over: noop.
message "hello_new" {
  group   = group.eng
  send_at = "2026-11-29T09:00:00Z"
  text    = "Hello"
}

moved {
  from = message.hello
  to   = message.hello_new
}
