# The template uses a column the CSV file does not have: one error that
# names the column and the columns there are, not one per row.
provider "a1base" {
  from = "+14155552671"
}

locals {
  rows = { for row in csvdecode(file("schedule.csv")) : row.key => row }
}

group "oncall" {
  thread_id = "thread-oncall"
}

message "schedule" {
  for_each = local.rows
  group    = group[each.value.group]
  send_at  = each.value.send_at
  text     = each.value.text # ERROR: Unsupported attribute
}
