provider "a1base" {
  from          = "+14155552671"
  account_id    = "acc_file"
  base_url      = "https://example.org/api"
  expires_after = "2h"
  check_media   = true
}

locals {
  people = csvdecode(file("people.csv"))
  config = jsondecode(file("config.json"))
}

group "eng" {
  thread_id = local.config.thread
}

message "welcome" {
  for_each = { for p in local.people : p.name => p }
  group    = group.eng
  send_at  = timeadd(local.config.start, each.value.delay)
  text     = templatefile("welcome.tmpl", { name = each.key, role = each.value.role })
}

message "exists" {
  group   = group.eng
  send_at = local.config.start
  text    = fileexists("people.csv") ? "yes" : "no"
}

backend "postgres" {
  schema_name = "herald_test"
}
