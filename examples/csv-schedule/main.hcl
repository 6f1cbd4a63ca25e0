# A schedule driven by a spreadsheet export: one row per message.
# Columns: key, group, send_at, text.

provider "a1base" {
  account_id    = "acc_ops"
  from          = "+14155552671"
  rate_limit    = "30/m"
  expires_after = "3h"
}

locals {
  rows = { for row in csvdecode(file("schedule.csv")) : row.key => row }
}

group "oncall" {
  thread_id  = "thread-oncall"
  rate_limit = "6/m"
}

group "office" {
  thread_id = "thread-office"
}

message "schedule" {
  for_each = local.rows
  group    = group[each.value.group]
  send_at  = each.value.send_at
  text     = each.value.text
}
