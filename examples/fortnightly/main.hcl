# A fortnightly standup reminder in Europe/Berlin: every other Monday at
# 09:00 from 1 March 2027, ten times, with no standup on 26 April and the
# one of 12 April moved to Tuesday 10:30.
#
#   herald plan -at=2027-04-12T07:05:00Z     # Monday 12 April, 09:05 in Berlin

provider "a1base" {
  account_id = "acc_fortnightly"
  from       = "+14155552671"
  timezone   = "Europe/Berlin"
}

group "eng" {
  thread_id = "group-thread-eng"
  service   = "whatsapp"
}

message "standup" {
  group = group.eng
  repeat {
    cron     = "0 9 * * MON"
    from     = "2027-03-01 00:00"
    interval = "2 weeks" # weeks run Monday to Sunday; the week of from is the first
    count    = 10        # the 10th is 5 July
    except   = ["2027-04-26"]

    # Keyed by the time the rule gives it; sent on Tuesday instead.
    occurrence "2027-04-12 09:00" {
      send_at = "2027-04-13 10:30"
      text    = "Standup moved to Tuesday 10:30 this week."
    }
  }
  expires_after = "15m"
  text          = "Standup in 15 minutes, ${formatdate("EEEE D MMMM", each.key)}."
}
