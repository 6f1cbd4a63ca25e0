group "g" {
  thread_id = "t"
  from      = "+14155552671"
}

message "bad_cron" {
  group = group.g
  repeat {
    cron = "0 9 * *" # ERROR: Invalid cron expression
  }
  text = "x"
}

message "interval" {
  group = group.g
  repeat {
    cron = "@every 1h" # ERROR: Invalid cron expression
  }
  text = "x"
}

message "with_send_at" {
  group   = group.g
  send_at = "2027-01-01T09:00:00Z" # ERROR: Conflicting send_at and repeat
  repeat {
    cron = "0 9 * * *"
  }
  text = "x"
}

message "with_for_each" {
  for_each = toset(["a"]) # ERROR: Conflicting for_each and repeat
  group    = group.g
  repeat {
    cron = "0 9 * * *"
  }
  text = each.key
}

message "backwards" {
  group = group.g
  repeat {
    cron  = "0 9 * * *"
    from  = "2027-06-01T00:00:00Z"
    until = "2027-01-01T00:00:00Z" # ERROR: Invalid until
  }
  text = "x"
}

message "bad_from" {
  group = group.g
  repeat {
    cron = "0 9 * * *"
    from = "next monday" # ERROR: Invalid from
  }
  text = "x"
}

message "wall_time_without_zone" {
  group = group.g
  repeat {
    cron = "0 9 * * *"
    from = "2027-01-01 00:00" # ERROR: Invalid from
  }
  text = "x"
}

message "never" {
  group = group.g
  repeat {
    cron = "0 9 30 2 *" # ERROR: Repeat never fires
  }
  text = "x"
}

message "empty_window" {
  group = group.g
  repeat {
    cron  = "0 9 * * MON" # ERROR: Repeat never fires
    from  = "2027-03-02T00:00:00Z"
    until = "2027-03-07T00:00:00Z"
  }
  text = "x"
}

message "no_cron" {
  group = group.g
  repeat { # ERROR: Missing required argument
    from = "2027-03-02T00:00:00Z"
  }
  text = "x"
}

message "two_rules" {
  group = group.g
  repeat {
    cron = "0 9 * * MON"
  }
  repeat { # ERROR: Duplicate repeat block
    cron = "0 9 * * TUE"
  }
  text = "x"
}

message "group_from_each" {
  group = group[each.key] # ERROR: Reference to "each"
  repeat {
    cron = "0 9 * * MON"
  }
  text = "x"
}

message "unknown_in_repeat" {
  group = group.g
  repeat {
    cron  = "0 9 * * MON"
    every = "week" # ERROR: Unsupported argument
  }
  text = "x"
}

message "weekday_name" {
  group = group.g
  repeat {
    cron = "0 9 * * TUES" # ERROR: Invalid cron expression
  }
  text = "x"
}

message "month_name" {
  group = group.g
  repeat {
    cron = "0 9 1 Sept *" # ERROR: Invalid cron expression
  }
  text = "x"
}

message "weekday_eight" {
  group = group.g
  repeat {
    cron = "0 9 * * 1-8" # ERROR: Invalid cron expression
  }
  text = "x"
}
