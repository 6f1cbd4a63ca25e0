# The team's broadcast policy. A failed check with severity "error" makes
# `herald plan` exit 1 and `herald apply` send nothing; a warning is shown
# in every plan format and stops nothing.

variable "link_hosts" {
  type    = list(string)
  default = ["example.com", "github.com"]
}

check "quiet_hours" {
  severity = "error"
  assert {
    condition = alltrue([for m in messages : tonumber(formatdate("h", m.send_at)) >= 8 && tonumber(formatdate("h", m.send_at)) < 21])
    error_message = "Messages go out between 08:00 and 21:00 in the group's time zone: ${join(", ", [for m in messages : "${m.address} at ${formatdate("hh:mm", m.send_at)} (${m.timezone})" if tonumber(formatdate("h", m.send_at)) < 8 || tonumber(formatdate("h", m.send_at)) >= 21])}."
  }
}

check "daily_cap" {
  severity = "error"
  assert {
    condition = alltrue([
      for day, ms in { for m in messages : "${m.group} ${formatdate("YYYY-MM-DD", m.send_at)}" => m.address... } : length(ms) <= 3
    ])
    error_message = "A group gets at most 3 messages a local day."
  }
}

check "links" {
  assert {
    condition = alltrue(flatten([
      for m in messages : [for u in regexall("https?://([^/\\s]+)", coalesce(m.text, try(m.media.caption, ""), "")) : contains(var.link_hosts, u[0])]
    ]))
    error_message = "Links point only to ${join(", ", var.link_hosts)}."
  }
}

check "signed" {
  assert {
    condition     = alltrue([for m in messages : endswith(coalesce(m.text, try(m.media.caption, ""), "-"), "-- the team")])
    error_message = "Every text and caption ends with \"-- the team\"."
  }
}

check "captions" {
  severity = "error"
  assert {
    condition     = alltrue([for m in messages : m.media == null || try(m.media.caption, "") != ""])
    error_message = "Every image has a caption."
  }
}
