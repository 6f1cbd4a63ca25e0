# A launch week reviewed by policy: check blocks and preconditions that a
# reviewer would otherwise check by eye (policy.hcl). The tests in tests/
# pin the clock and assert on the plan.
#
#   herald plan -at=2027-03-01T07:00:00Z
#   herald test

provider "a1base" {
  account_id = "acc_launch"
  from       = "+14155552671"
  timezone   = "Europe/Berlin"
}

variable "launch_day" {
  type    = string
  default = "2027-03-02"
}

variable "launch_time" {
  type    = string
  default = "10:00"
}

group "eng" {
  thread_id = "group-thread-eng"
}

group "ops" {
  thread_id = "group-thread-ops"
  timezone  = "America/New_York"
}

message "launch" {
  for_each = { eng = group.eng, ops = group.ops }
  group    = each.value
  send_at  = "${var.launch_day} ${var.launch_time}" # in each group's zone
  text     = "We launch today! Release notes: https://github.com/heraldhq/herald/releases -- the team"

  precondition {
    condition     = !strcontains(lower(self.text), "todo")
    error_message = "${self.address} still says TODO."
  }
}

message "poster" {
  group   = group.eng
  send_at = "${var.launch_day} 12:00"
  media {
    url     = "https://example.com/poster.png"
    type    = "image"
    caption = "The launch poster -- the team"
  }
}

message "standup" {
  group = group.eng
  repeat {
    cron = "0 9 * * MON-FRI"
    from = "2027-03-01 00:00"
  }
  expires_after = "15m"
  text          = "Standup in 15 minutes. Notes: https://example.com/standup -- the team"
}
