# Tests of the launch week (../main.hcl and ../policy.hcl): each run plans
# at its own clock against an empty state and asserts on the plan.
#
#   herald test

variables {
  launch_day = "2027-03-02"
}

run "monday_standup" {
  at = "2027-03-01T08:05:00Z" # Monday 09:05 in Berlin

  assert {
    condition     = message.standup["2027-03-01T09:00:00+01:00"].action == "send"
    error_message = "Monday's standup is due at 09:00 Berlin time."
  }
  assert {
    condition     = message.standup["2027-03-01T09:00:00+01:00"].send_at_utc == "2027-03-01T08:00:00Z"
    error_message = "09:00 in Berlin in winter is 08:00 UTC."
  }
  assert {
    condition     = plan.summary.send == 1 && plan.summary.wait == 4
    error_message = "One standup to send; the launch, the poster and the next standup wait."
  }
}

run "launch_in_each_zone" {
  at = "2027-03-02T06:00:00Z"

  assert {
    condition     = message.launch["eng"].send_at == "2027-03-02T10:00:00+01:00"
    error_message = "The launch is at 10:00 in Berlin."
  }
  assert {
    condition     = message.launch["ops"].send_at == "2027-03-02T10:00:00-05:00" && message.launch["ops"].send_at_utc == "2027-03-02T15:00:00Z"
    error_message = "The launch is at 10:00 in New York, 15:00 UTC."
  }
  assert {
    condition     = strcontains(message.launch["eng"].text, "We launch today!")
    error_message = "The launch text renders."
  }
  assert {
    condition     = message.poster.media.caption == "The launch poster -- the team"
    error_message = "The poster has its caption."
  }
}

run "standups_in_march" {
  at = "2027-03-01T07:00:00Z"

  assert {
    condition     = length(occurrences("standup", "2027-03-01T00:00:00+01:00", "2027-04-01T00:00:00+02:00")) == 23
    error_message = "23 weekday standups in March 2027."
  }
}

run "quiet_hours_refused" {
  at = "2027-03-02T04:00:00Z"
  variables {
    launch_time = "06:30"
  }

  expect_failures = [check.quiet_hours]

  assert {
    condition     = check.quiet_hours.status == "fail" && check.daily_cap.status == "pass"
    error_message = "Only the quiet hours check fails."
  }
}

run "late_evening_refused" {
  at = "2027-03-02T04:00:00Z"
  variables {
    launch_time = "22:30" # in each group's zone: after 21:00
  }

  expect_failures = [check.quiet_hours]

  assert {
    condition     = strcontains(check.quiet_hours.error_messages[0], "message.launch[\"eng\"] at 22:30 (Europe/Berlin)")
    error_message = "The check names the late launch in local time: ${check.quiet_hours.error_messages[0]}"
  }
}

run "a_link_elsewhere_warns" {
  at = "2027-03-02T06:00:00Z"
  variables {
    link_hosts = ["example.com"]
  }

  expect_failures = [check.links]
}
