# schedule/main.hcl with a mistake: a message without send_at.
provider "a1base" {
  account_id = "acc_test"
  from       = "+14155552671"
}

group "eng" {
  thread_id = "t-eng"
}

message "standup" {
  group = group.eng
  text  = "Standup at 09:15"
}
