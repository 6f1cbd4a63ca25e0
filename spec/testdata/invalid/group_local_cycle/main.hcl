locals {
  threads = { eng = group.eng.name } # ERROR: Reference cycle
}

group "eng" {
  thread_id = local.threads.eng
  from      = "+14155552671"
}

group "ops" {
  thread_id = group.eng.thread_id # ERROR: Invalid reference
  from      = "+14155552671"
}
