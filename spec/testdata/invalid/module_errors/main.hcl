provider "a1base" {
  from = "+14155552671"
}

group "eng" {
  thread_id = "t-eng"
}

module "registry" {
  source = "heraldhq/weekly/a1base" # ERROR: Unsupported module source
}

module "gone" {
  source = "./modules/missing" # ERROR: Module directory not found
}

module "bad" {
  source    = "./modules/bad"
  thread_id = "t-bad"
}

module "ok" { # ERROR: Missing required argument
  source   = "./modules/ok"
  count    = 2 # ERROR: Unsupported argument
  greeting = "hi"
  thred_id = "t-typo" # ERROR: Unsupported argument
}

module "typed" {
  source    = "./modules/ok"
  thread_id = ["not", "a", "string"] # ERROR: Invalid value for module variable
  greeting  = "hi"
}

message "summary" {
  group   = group.eng
  send_at = "2027-01-04T09:00:00Z"
  text    = "see ${module.nope.thread}" # ERROR: Reference to undeclared module
}
