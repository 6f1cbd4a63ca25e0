provider "a1base" {
  from     = "+14155552671"
  timezone = "America/New_York"
}

group "eng" {
  thread_id = "t-eng"
  timezone  = "Europe/Berlin"
}

group "ny" {
  thread_id = "t-ny"
}

group "adelaide" {
  thread_id = "t-adl"
  timezone  = "Australia/Adelaide"
}

# Europe/Berlin from the group: the clock is on a Monday 09:00 exactly.
message "standup" {
  group = group.eng
  repeat {
    cron  = "0 9 * * MON"
    from  = "2027-03-01 00:00"
    until = "2027-12-31T00:00:00+01:00"
  }
  text = "Standup in 15 minutes (${formatdate("DD MMM", each.key)})"
}

# America/New_York from the provider.
message "payday" {
  group = group.ny
  repeat {
    cron = "0 9 31 * *"
    from = "2027-01-01 00:00"
  }
  media {
    url     = "https://example.com/payday.png"
    type    = "image"
    caption = "Payday ${each.key}"
  }
}

# The message's zone wins over the group's.
message "kolkata" {
  group    = group.adelaide
  timezone = "Asia/Kolkata"
  repeat {
    cron = "30 9 * * 1-5"
  }
  expires_after = "2h"
  text          = "Namaste"
}

# The repeat block's zone wins over all.
message "leap" {
  group    = group.eng
  timezone = "Asia/Kolkata"
  repeat {
    cron     = "0 9 29 2 *"
    timezone = "Australia/Adelaide"
  }
  text = "Leap day"
}

message "wall" {
  group   = group.adelaide
  send_at = "2027-04-01 18:00"
  text    = "Wall time in the group's zone"
}
