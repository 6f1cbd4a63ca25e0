provider "a1base" {
  from     = "+14155552671"
  timezone = "Mars/Olympus_Mons" # ERROR: Unknown time zone
}

group "typo" {
  thread_id = "t1"
  timezone  = "Europe/Berln" # ERROR: Unknown time zone
}

group "ok" {
  thread_id = "t2"
}

message "local" {
  group    = group.ok
  timezone = "Local" # ERROR: Unknown time zone
  send_at  = "2027-01-01 09:00"
  text     = "x"
}

# The provider's timezone is set but invalid (reported above): a wall time
# under it is no error of its own.
message "no_zone" {
  group   = group.ok
  send_at = "2027-01-01 09:00"
  text    = "x"
}

message "repeat_no_zone" {
  group = group.ok
  repeat {
    cron = "0 9 * * MON"
    from = "2027-01-01 00:00"
  }
  text = "x"
}

message "not_a_time" {
  group    = group.ok
  timezone = "Europe/Berlin"
  send_at  = "2027-01-01 9am" # ERROR: Invalid send_at
  text     = "x"
}

message "repeat_zone" {
  group = group.ok
  repeat {
    cron     = "0 9 * * *"
    timezone = "UTC+2" # ERROR: Unknown time zone
  }
  text = "x"
}
