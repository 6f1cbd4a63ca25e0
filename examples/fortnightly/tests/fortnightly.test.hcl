# The fortnightly rule of ../main.hcl, tested: every other Monday from
# 1 March 2027, ten times, 26 April left out, 12 April moved to Tuesday.
#
#   herald test

run "ten_fortnights_but_one" {
  at = "2027-03-01T07:00:00Z"

  assert {
    # The tenth is 5 July; 26 April counts towards the ten but is not sent.
    condition     = length(occurrences("standup", "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z")) == 9
    error_message = "Nine standups: ten fortnights, one of them excepted."
  }
  assert {
    condition     = !contains(occurrences("standup", "2027-04-01T00:00:00Z", "2027-05-01T00:00:00Z"), "2027-04-26T09:00:00+02:00")
    error_message = "No standup on 26 April."
  }
  assert {
    condition     = message.standup["2027-03-01T09:00:00+01:00"].action == "wait"
    error_message = "The first standup waits for 09:00."
  }
}

run "moved_to_tuesday" {
  at = "2027-04-12T07:05:00Z" # Monday 12 April, 09:05 in Berlin

  assert {
    # Keyed by the Monday the rule gives it, sent on Tuesday at 10:30.
    condition     = message.standup["2027-04-12T09:00:00+02:00"].send_at == "2027-04-13T10:30:00+02:00"
    error_message = "The 12 April standup is sent on Tuesday 13 April at 10:30, summer time."
  }
  assert {
    condition     = message.standup["2027-04-12T09:00:00+02:00"].text == "Standup moved to Tuesday 10:30 this week."
    error_message = "The moved standup says so."
  }
  assert {
    condition     = message.standup["2027-04-12T09:00:00+02:00"].action == "wait"
    error_message = "On Monday it still waits."
  }
}

run "across_the_clock_change" {
  at = "2027-03-29T07:05:00Z" # the Monday after the clocks went forward

  assert {
    condition     = message.standup["2027-03-29T09:00:00+02:00"].send_at_utc == "2027-03-29T07:00:00Z"
    error_message = "09:00 in Berlin in summer is 07:00 UTC."
  }
  assert {
    condition     = message.standup["2027-03-29T09:00:00+02:00"].action == "send"
    error_message = "The standup of 29 March is due."
  }
}
