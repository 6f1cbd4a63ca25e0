# The worked example of docs/language/time-zones-and-repeat.md as a test:
# herald applies on Monday 29 March, then does not run for three weeks.
#
#   herald test

run "first_monday" {
  at      = "2027-03-29T07:05:00Z" # Monday 09:05 in Berlin
  command = "apply"                # sent to the sandbox; the runs below see it

  assert {
    condition     = apply.sent == 1
    error_message = "The standup of 29 March is sent."
  }
  assert {
    condition     = message.standup["2027-03-29T09:00:00+02:00"].send_at_utc == "2027-03-29T07:00:00Z"
    error_message = "The day after the clocks went forward, 09:00 in Berlin is 07:00 UTC."
  }
}

run "same_monday_later" {
  at = "2027-03-29T08:00:00Z"

  assert {
    condition     = message.standup["2027-03-29T09:00:00+02:00"].action == "noop"
    error_message = "Sent once, never again."
  }
}

run "three_weeks_later" {
  at = "2027-04-19T07:05:00Z" # Monday 19 April, 09:05

  assert {
    condition     = plan.skipped == 2
    error_message = "The Mondays of 5 and 12 April were missed, and are skipped."
  }
  assert {
    condition     = message.standup["2027-04-19T09:00:00+02:00"].action == "send"
    error_message = "Today's standup is due."
  }
  assert {
    condition     = message.retro.action == "expire"
    error_message = "The retro of 31 March is long past its expiry."
  }
}
