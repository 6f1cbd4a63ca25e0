# A row names a group that is not declared: the error names the row's
# instance and suggests the group, as group.NAME would.
provider "a1base" {
  from = "+14155552671"
}

locals {
  rows = { for row in csvdecode(file("schedule.csv")) : row.key => row }
}

group "oncall" {
  thread_id = "thread-oncall"
}

group "office" {
  thread_id = "thread-office"
}

message "schedule" {
  for_each = local.rows
  group    = group[each.value.group] # ERROR: Invalid group
  send_at  = each.value.send_at
  text     = each.value.text
}
