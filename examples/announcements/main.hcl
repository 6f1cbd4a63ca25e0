# Weekly announcements whose text lives in template files, rendered per
# team. Reviewers read the rendered text in the plan.

provider "a1base" {
  account_id = "acc_devrel"
  from       = "+14155552671"
  rate_limit = "20/m"
}

variable "release" {
  type = object({
    version = string
    date    = string
    notes   = list(string)
  })
  default = {
    version = "2.4.0"
    date    = "2026-12-08"
    notes   = ["Faster sync", "Dark mode", "Fewer crashes"]
  }

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.release.version))
    error_message = "release.version must look like 1.2.3."
  }
}

variable "support_pin" {
  type      = string
  default   = "0000"
  sensitive = true
}

locals {
  teams = {
    eng = {
      thread = "thread-eng"
      lead   = "Ada"
    }
    support = {
      thread = "thread-support"
      lead   = "Grace"
    }
  }
}

group "eng" {
  thread_id = local.teams.eng.thread
}

group "support" {
  thread_id = local.teams.support.thread
  service   = "telegram"
}

message "release_notes" {
  for_each = local.teams
  group    = group[each.key]
  send_at  = "${var.release.date}T09:00:00+01:00"
  text = templatefile("templates/release.tmpl", {
    team    = each.key
    lead    = each.value.lead
    version = var.release.version
    notes   = var.release.notes
  })
}

message "support_pin" {
  group         = group.support
  send_at       = "${var.release.date}T08:00:00+01:00"
  expires_after = "2h"
  text          = "Hotline PIN for release day: ${var.support_pin}"
}
