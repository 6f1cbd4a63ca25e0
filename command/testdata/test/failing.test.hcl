run "wrong_count" {
  at = "2027-03-01T08:05:00Z"
  assert {
    condition     = plan.summary.send == 2
    error_message = "Expected two sends, got ${plan.summary.send}."
  }
}

run "unexpected_error_check" {
  at = "2027-03-02T04:00:00Z"
  variables {
    launch_time = "06:30"
  }
}

run "expected_but_passed" {
  at              = "2027-03-02T04:00:00Z"
  expect_failures = [check.daily_cap, check.nope]
}

run "bad_clock" {
  at = "tomorrow"
}

run "undeclared_var" {
  at = "2027-03-02T04:00:00Z"
  variables {
    lunch_time = "06:30"
  }
}
