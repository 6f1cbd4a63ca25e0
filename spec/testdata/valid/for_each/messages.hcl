# for_each over a map of strings, with group[each.key].
message "by_map" {
  for_each = local.send
  group    = group[each.key]
  send_at  = each.value
  text     = "${local.shout} ${each.key} at ${formatdate("hh:mm", each.value)}"
}

# for_each over a set of strings: each.value is each.key.
message "by_set" {
  for_each = local.people
  group    = group.eng
  send_at  = "2027-01-05T10:00:00Z"
  text     = "${each.key}/${each.value}"
}

# for_each over an object with values of different types.
message "by_object" {
  for_each = {
    first  = { when = "2027-01-06T08:00:00Z", g = group.sales }
    second = { when = "2027-01-06T08:00:00Z", g = group.ops, extra = 1 }
  }
  group   = each.value.g
  send_at = each.value.when
  text    = local.chain_c
}

# for_each over the groups themselves.
message "all" {
  for_each      = group
  group         = each.value
  send_at       = "2027-01-07T12:00:00-05:00"
  expires_after = "1h30m"
  text          = "Thread ${each.value.thread_id} via ${each.value.service} from ${each.value.from}"
}

# A group picked from a list of groups.
message "second_team" {
  group   = local.team[1]
  send_at = "2027-01-08T00:00:00Z"
  text    = "to ${local.team[1].name}"
}

message "unicode" {
  group   = group.eng
  send_at = "2027-01-08T00:00:00Z"
  text    = replace(format("%4096s", ""), " ", "é")
}
