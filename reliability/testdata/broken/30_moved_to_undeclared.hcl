provider "a1base" {
  account_id = "acc_rel"
  from       = "+14155552671"
}
group "eng" {
  thread_id = "t-eng"
}
moved {
  from = message.old
  to   = message.new # ERROR: Moved to a message that does not exist
}
